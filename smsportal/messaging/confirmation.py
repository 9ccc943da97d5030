"""Compose's confirmation, bound to what it showed.

The confirmation carries a fingerprint of the send it describes: the account (or "Automatic"
and each account the routes chose), the sender, the exact text and kind, the department, the
schedule, every recipient, the parts and the cost. "Confirm and send" posts the whole form
again, and the send recomputes the fingerprint from it: a list added, the text lengthened or
the account switched after "Send…" no longer matches, and the new send is shown for confirming
instead of sent. The fingerprint is an HMAC of the user and the send (the SECRET_KEY's), so a
form posted without going through the confirmation cannot carry one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from django.utils.crypto import constant_time_compare, salted_hmac

from .routed import RoutedDraft
from .sending import Draft

FIELD = "confirmation"  # the form field the confirmation's fingerprint travels in
SALT = "smsportal.messaging.confirmation"


def fingerprint(draft: Draft | RoutedDraft, *, account_choice: str, list_ids, user) -> str:
    """The fingerprint of the send `draft` will make, as `user` was shown it. `account_choice`
    is the account field as posted (an id, or "auto"); `list_ids`, the lists chosen."""
    digest = hashlib.sha256()
    for value in (account_choice, sorted(list_ids), *described(draft)):
        digest.update(str(value).encode())
        digest.update(b"\0")
    return salted_hmac(SALT, f"{user.pk}:{digest.hexdigest()}", algorithm="sha256").hexdigest()


def matches(posted: str, expected: str) -> bool:
    """The fingerprint posted with "Confirm and send" is the one of the send now prepared."""
    return bool(posted) and constant_time_compare(posted, expected)


def already_sent(draft: Draft | RoutedDraft) -> bool:
    """The form's message exists already (a double click, a second tab): sending it again
    creates nothing and only finds that message, so there is nothing left to confirm."""
    drafts = draft.drafts if isinstance(draft, RoutedDraft) else (draft,)
    return all(part.existing for part in drafts)


def described(draft: Draft | RoutedDraft) -> Iterable:
    """Every figure of the send that the person confirms, in a fixed order."""
    if not isinstance(draft, RoutedDraft):
        yield from described_part(draft)
        return
    yield draft.sender
    yield draft.routes
    yield sorted(draft.refused)
    for part in draft.drafts:
        yield from described_part(part)


def described_part(draft: Draft) -> Iterable:
    """One account's message: what it sends, to whom, and what it costs. The numbers (up to
    hundreds of thousands) are hashed, in order, each recipient with their own text when the
    message is personalised."""
    yield draft.account.pk
    yield draft.sender
    yield draft.body
    yield draft.message_type
    yield draft.want_delivery_report
    yield draft.binary_udh
    yield draft.barcode_format
    yield draft.scheduled_for.isoformat() if draft.scheduled_for else ""
    yield draft.department.pk if draft.department else ""
    yield draft.encoding
    yield draft.segments
    yield draft.cost
    yield len(draft.phones)
    recipients = hashlib.sha256()
    for phone in sorted(draft.phones):
        recipients.update(phone.encode())
        if draft.texts is not None:
            text, parts = draft.texts[phone]
            recipients.update(f"\0{parts}\0{text}".encode())
        recipients.update(b"\n")
    yield recipients.hexdigest()
