"""POST /preview with account "automatic": how the routes would split the numbers, as Compose's
"Automatic" preview shows it - which account carries how many, from which sender ID, at what
cost, and which numbers are refused with the reason - in the words of POST /messages' answer
(a refused number is `skipped` with `no route: ...`, as the send would record it).

Only routing is asked (`messaging.routed.preview`): the checks a send runs on each account's
part (balance, flood rules, quotas) are the send's, as on the compose page.
"""

from __future__ import annotations

from django.conf import settings

from smsportal.contacts import selectors as contacts
from smsportal.messaging import message_types, routed
from smsportal.messaging.recipients import resolve
from smsportal.sms.encoding import STANDARD

from .sending import Outcome


def routed_preview(data: dict) -> dict:
    """The preview answer for validated PreviewSerializer data whose account is "automatic"."""
    kind = data["type"]
    body = message_types.body_for(data["text"], kind)
    # Each account counts the text in its own alphabet (the shares' `segments`); the figures
    # at the top are the standard count, as Compose shows before an account is known.
    analysis = message_types.measure(body, kind, data["binary_udh"], STANDARD)
    summary = resolve(
        "\n".join(data.get("to", [])),
        settings.PHONE_DEFAULT_REGION,
        listed=contacts.members([contact_list.pk for contact_list in data.get("lists", [])]),
        opted_out=contacts.opted_out,
    )
    found = routed.preview(
        body=body,
        phones=summary.phones,
        sender=data["sender"],
        message_type=message_types.message_type(kind),
    )
    problem = analysis.problem
    if not problem and summary.phones and not found.shares:
        problem = "No recipient has a route that can send this message. " + found.refused[0][1]
    if not problem and not summary.phones:
        problem = "There is no recipient to send to."
    skipped = summary.resolved().skipped
    skipped += [(phone, f"{routed.NO_ROUTE}: {reason}") for phone, reason in found.refused]
    queued = [phone for share in found.shares for phone in share.phones]
    return {
        **text_figures(analysis, data["text"]),
        "max_parts": None,
        "sendable": not problem,
        "problem": problem,
        "estimated_cost": found.cost,
        "routing": [
            {
                "account": share.account.pk,
                "account_name": share.account.name,
                "recipient_count": share.recipients,
                "sender": share.sender,
                "segments": share.parts,
                "estimated_cost": share.cost,
                "routes": share.routes,
            }
            for share in found.shares
        ],
        # The numbers left out first: a preview is asked to find them.
        "recipients": Outcome(None, queued, skipped, summary.duplicates).summary(
            skipped_first=True
        ),
    }


def text_figures(analysis, text: str) -> dict:
    """What both previews (a named account's and "automatic") say of the text itself."""
    return {
        "encoding": analysis.encoding,
        "alphabet": getattr(analysis, "label", analysis.encoding),
        "characters": len(text),
        "segments": analysis.segments,
        "parts": list(getattr(analysis, "parts", ())),
        "remaining": getattr(analysis, "remaining", 0),
        "non_standard_characters": list(getattr(analysis, "non_gsm", ())),
    }
