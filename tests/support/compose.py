"""Compose's send as a person makes it: "Send…", then "Confirm and send" with the fingerprint of
the confirmation shown (messaging/confirmation.py). A send posted without it is only confirmed."""

from __future__ import annotations

import re

from django.urls import reverse

FINGERPRINT = re.compile(r'name="confirmation" value="([^"]*)"')


def confirmation_in(response) -> str:
    """The fingerprint the page's confirmation carries; empty when none is shown."""
    found = FINGERPRINT.search(response.content.decode())
    return found.group(1) if found else ""


def confirm_and_send(client, data: dict, url: str | None = None, **extra):
    """Post `data` as "Send…" and then, with the confirmation's fingerprint, as "Confirm and
    send": the answer to the send (a form refused at the confirmation is refused again there).
    `extra`: the test client's keywords (follow, REMOTE_ADDR…), given to both posts."""
    url = url or reverse("messaging:compose")
    shown = client.post(url, {**data, "action": "send"}, **extra)
    confirmed = {**data, "action": "confirm", "confirmation": confirmation_in(shown)}
    return client.post(url, confirmed, **extra)
