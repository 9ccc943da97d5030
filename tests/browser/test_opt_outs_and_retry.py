"""In the browser, as Operator, Manager and superuser: a message whose numbers opted out after it
was composed shows them `skipped: opted out`; retrying unknown deliveries warns, with the count,
that they may get the message twice; the opt-out list offers Remove only where the role may.

With SCREENSHOTS=<folder> set, each page is saved at 1366 and 390 px wide."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from smsportal.contacts.models import OptOut
from smsportal.messaging.models import Delivery
from smsportal.messaging.sending import ResolvedRecipients
from smsportal.sms.status import DeliveryStatus
from tests.factories import PASSWORD
from tests.support.sending import create_message

pytestmark = pytest.mark.django_db(transaction=True)


def shoot(page, name: str) -> None:
    folder = os.environ.get("SCREENSHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=f"{folder}/{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)


@pytest.mark.parametrize("role", ["operator", "manager", "superuser"])
def test_opted_out_numbers_the_retry_warning_and_who_may_lift_an_opt_out(
    page, live_server, login, role, request, account, script, manager, operator
):
    user = request.getfixturevalue(role)
    # Opted out after compose resolved the recipients: the send (immediate here) skips it.
    OptOut.objects.create(phone="+96550000002", reason=OptOut.Reason.KEYWORD, note="keyword STOP")
    message = create_message(
        account=account,
        body="Opening hours change on Friday",
        recipients=ResolvedRecipients(phones=["+96550000001", "+96550000002", "+96550000003"]),
    )
    Delivery.objects.filter(phone="+96550000003").update(
        status=DeliveryStatus.UNKNOWN, error_code="worker-lost", error_text="The worker stopped."
    )
    OptOut.objects.create(phone="+96550000009", created_by=manager, note="asked at the desk")
    OptOut.objects.create(phone="+96550000008", created_by=operator, note="asked by phone")

    login(user, PASSWORD)
    page.goto(f"{live_server.url}{message.get_absolute_url()}")
    skipped = page.locator("#deliveries tr", has_text="+96550000002")
    expect(skipped).to_contain_text("skipped")
    expect(skipped).to_contain_text("opted out")
    expect(page.locator("#retry-warning")).to_contain_text(
        "1 recipient whose outcome is unknown may get the message twice"
    )
    shoot(page, f"message-{role}")

    page.goto(f"{live_server.url}/contacts/opt-outs/")
    removable = 3 if role != "operator" else 1  # an Operator: only the one an Operator made
    expect(page.get_by_role("button", name="Remove")).to_have_count(removable)
    shoot(page, f"opt-outs-{role}")
