"""What Managers do with sender IDs that involves the provider or more than one row.

Views and `ProviderAccount.sync_sender_ids` call these; they talk to the provider only through
`account.backend`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from smsportal.providers.models import ProviderAccount

from .models import SenderID, SenderSource, SenderStatus
from .validation import SenderKind, classify_sender

logger = logging.getLogger(__name__)

# KalaSMS `defaultsenderid`: choice=0 is "the account's own number", choice=1 "the registered
# alphanumeric sender" (decision, docs/providers.md#kalasms; its document gives no more).
DEFAULT_SENDER_CHOICE = {SenderKind.NUMERIC: "0", SenderKind.ALPHANUMERIC: "1"}


@dataclass
class SyncResult:
    added: list[str] = field(default_factory=list)
    reappeared: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unchanged: int = 0

    def summary(self) -> str:
        parts = [f"{len(self.added)} new", f"{self.unchanged} unchanged"]
        if self.reappeared:
            parts.append(f"{len(self.reappeared)} listed again")
        if self.missing:
            parts.append(f"{len(self.missing)} no longer listed ({', '.join(self.missing)})")
        return ", ".join(parts)


def _reported_values(account: ProviderAccount) -> list[str]:
    values: list[str] = []
    for value in account.backend.sender_ids():
        value = value.strip()
        if value and value not in values:
            values.append(value)
    return values


def sync_sender_ids(account: ProviderAccount) -> SyncResult:
    """Bring the account's sender IDs in line with what the provider reports.

    New values are added (active, source "synced"); pending or rejected ones the provider now
    lists become active; active ones it no longer lists get `missing_since` (never deleted);
    retired ones stay retired. Raises the backend's ProviderError (UnsupportedOperation where the
    provider cannot list them) before anything changes.
    """
    reported = _reported_values(account)  # the provider call, outside any transaction
    now = timezone.now()
    result = SyncResult()
    with transaction.atomic():
        existing = {
            s.value: s for s in SenderID.objects.select_for_update().filter(account=account)
        }
        new = []
        for value in reported:
            sender = existing.get(value)
            if sender is None:
                new.append(
                    SenderID(
                        account=account,
                        value=value,
                        kind=classify_sender(value),
                        source=SenderSource.SYNCED,
                        status=SenderStatus.ACTIVE,
                        last_seen_at=now,
                    )
                )
                result.added.append(value)
                continue
            if sender.missing_since is not None:
                result.reappeared.append(value)
            else:
                result.unchanged += 1
            sender.missing_since = None
            sender.last_seen_at = now
            if sender.status in (SenderStatus.PENDING, SenderStatus.REJECTED):
                sender.status = SenderStatus.ACTIVE
            sender.save(update_fields=["missing_since", "last_seen_at", "status", "updated_at"])
        SenderID.objects.bulk_create(new)
        gone = [
            s
            for value, s in existing.items()
            if value not in reported and s.status == SenderStatus.ACTIVE and not s.missing_since
        ]
        SenderID.objects.filter(pk__in=[s.pk for s in gone]).update(
            missing_since=now, updated_at=now
        )
        result.missing = [s.value for s in gone]
    logger.info("Synced sender IDs of account %s: %s", account.pk, result.summary())
    return result


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
