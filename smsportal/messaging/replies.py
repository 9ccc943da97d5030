"""Sending one SMS to one number that wrote to us: a staff reply in a conversation, or an
automatic reply to a keyword. Both go through the one send path (`sending.prepare` runs every
check: text, account, opt-outs, flood rules, balance; `sending.send` creates the message).

The one exception to the opt-out list is the confirmation of an opt-out itself (`confirm_opt_out`):
the number may get that one message, once per opt-out, and nothing else.
"""

from __future__ import annotations

from django.db import transaction

from smsportal.contacts.models import OptOut
from smsportal.contacts.selectors import opted_out
from smsportal.providers.models import ProviderAccount

from . import sending
from .models import Message
from .sending import ResolvedRecipients, SendRefused


def opted_out_refusal(phone: str) -> str:
    return (
        f"{phone} has opted out: the portal sends it nothing until it sends START again "
        "(or a Manager removes the opt-out)."
    )


def send_to_one(
    account: ProviderAccount,
    phone: str,
    text: str,
    *,
    user=None,
    key: str | None = None,
    department=None,
) -> tuple[Message, bool]:
    """(message, created): send `text` to `phone` through `account`, as `department` (the
    thread's). Raises SendRefused, with the reason, when the number opted out, the balance is
    short or the text cannot go. A `key` already used returns that message and sends nothing
    (created is False); another sender's key is refused (`sending.sent_with`)."""

    sent_before = key and sending.sent_with(key, user=user, department=department)
    if not sent_before and opted_out([phone]):
        raise SendRefused(opted_out_refusal(phone))
    draft = sending.prepare(
        account=account,
        body=text,
        recipients=ResolvedRecipients(phones=[phone]),
        user=user,
        department=department,
        idempotency_key=key,
    )
    return sending.send(draft), draft.existing is None


def confirm_opt_out(
    account: ProviderAccount, phone: str, text: str, department=None
) -> Message | None:
    """Send the confirmation of `phone`'s opt-out, the one message an opted-out number may get:
    None when there is no opt-out to confirm or it was confirmed already. The opt-out row names
    the message (dispatch lets exactly that one through) in the same transaction that creates
    it, under a row lock, so two racing STOPs confirm once."""

    with transaction.atomic():
        optout = (
            OptOut.objects.select_for_update()
            .filter(phone=phone[:20], confirmation_message_id__isnull=True)
            .first()
        )
        if optout is None:
            return None
        draft = sending.prepare(
            account=account,
            body=text,
            recipients=ResolvedRecipients(phones=[phone]),
            department=department,
            confirms_opt_out=True,
        )
        message = sending.send(draft)
        OptOut.objects.filter(pk=optout.pk).update(confirmation_message_id=message.pk)
    return message
