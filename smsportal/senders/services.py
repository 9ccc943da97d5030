"""What Managers do with sender IDs that involves the provider or more than one row (the sync
with the provider's list is `SenderID.objects.sync(account)`). They talk to the provider only
through `account.backend`.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from .models import SenderID, SenderStatus
from .validation import SenderKind

logger = logging.getLogger(__name__)

# KalaSMS `defaultsenderid`: choice=0 is "the account's own number", choice=1 "the registered
# alphanumeric sender" (decision, docs/providers.md#kalasms; its document gives no more).
DEFAULT_SENDER_CHOICE = {SenderKind.NUMERIC: "0", SenderKind.ALPHANUMERIC: "1"}


def set_default_sender(sender: SenderID) -> None:
    """Make `sender` its account's one default. Where the provider keeps the default itself
    (KalaSMS `defaultsenderid`), tell it first: if it refuses, nothing changes here."""
    if not sender.is_usable:
        raise ValueError(f"“{sender}” is not active, so it cannot be the default.")
    account = sender.account
    if account.backend_class.capabilities.default_sender_choice:
        account.backend.set_default_sender(DEFAULT_SENDER_CHOICE[SenderKind(sender.kind)])
    with transaction.atomic():
        # Clear first: the conditional unique constraint allows one default per account.
        SenderID.objects.filter(account=account, is_default=True).exclude(pk=sender.pk).update(
            is_default=False, updated_at=timezone.now()
        )
        SenderID.objects.filter(pk=sender.pk).update(is_default=True, updated_at=timezone.now())
    sender.is_default = True


def retire_sender(sender: SenderID) -> None:
    """Take a sender ID out of use, keeping its row (and so its history)."""
    sender.status = SenderStatus.RETIRED
    sender.is_default = False
    sender.save(update_fields=["status", "is_default", "updated_at"])
