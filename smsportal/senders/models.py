"""Sender IDs: the names and numbers an account may send from."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from smsportal.providers.models import ProviderAccount

from .validation import SenderKind, classify_sender

logger = logging.getLogger(__name__)


class SenderStatus(models.TextChoices):
    ACTIVE = "active", _("Active")  # usable on the compose page
    PENDING = "pending", _("Pending")  # requested from the provider, not yet approved
    REJECTED = "rejected", _("Rejected")  # the provider (or the telcos) refused it
    RETIRED = "retired", _("Retired")  # a Manager took it out of use; kept for history


class SenderSource(models.TextChoices):
    SYNCED = "synced", _("Reported by the provider")
    STAFF = "staff", _("Added by staff")


class SenderIDQuerySet(models.QuerySet):
    def usable(self) -> SenderIDQuerySet:
        """Active, and not missing from the provider's latest list."""
        return self.filter(status=SenderStatus.ACTIVE, missing_since__isnull=True)


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


class SenderIDManager(models.Manager.from_queryset(SenderIDQuerySet)):
    def sync(self, account: ProviderAccount) -> SyncResult:
        """Bring the account's sender IDs in line with what the provider reports.

        New values are added (active, source "synced"); pending or rejected ones the provider
        now lists become active; active ones it no longer lists get `missing_since` (never
        deleted); retired ones stay retired. Raises the backend's ProviderError
        (UnsupportedOperation where the provider cannot list them) before anything changes.
        """
        reported = _reported_values(account)  # the provider call, outside any transaction
        now = timezone.now()
        result = SyncResult()
        with transaction.atomic():
            existing = {s.value: s for s in self.select_for_update().filter(account=account)}
            new = []
            for value in reported:
                sender = existing.get(value)
                if sender is None:
                    new.append(
                        self.model(
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
            self.bulk_create(new)
            gone = [
                s
                for value, s in existing.items()
                if value not in reported and s.status == SenderStatus.ACTIVE and not s.missing_since
            ]
            self.filter(pk__in=[s.pk for s in gone]).update(missing_since=now, updated_at=now)
            result.missing = [s.value for s in gone]
        logger.info("Synced sender IDs of account %s: %s", account.pk, result.summary())
        return result


class SenderID(models.Model):
    account = models.ForeignKey(
        ProviderAccount, on_delete=models.CASCADE, related_name="sender_ids"
    )
    value = models.CharField("sender ID", max_length=20)
    kind = models.CharField(max_length=16, choices=SenderKind.choices, editable=False)
    status = models.CharField(
        max_length=16, choices=SenderStatus.choices, default=SenderStatus.ACTIVE
    )
    is_default = models.BooleanField("default", default=False)
    source = models.CharField(max_length=16, choices=SenderSource.choices, editable=False)
    # Set by a sync when the provider stops listing this sender; cleared when it is listed again.
    # Rows are never deleted, so messages sent from it keep their history.
    missing_since = models.DateTimeField(null=True, blank=True, editable=False)
    last_seen_at = models.DateTimeField(null=True, blank=True, editable=False)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SenderIDManager()

    class Meta:
        verbose_name = "sender ID"
        ordering = ["account__name", "-is_default", "value"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "value"],
                name="sender_unique_per_account",
                violation_error_message="This account already has this sender ID.",
            ),
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(is_default=True),
                name="one_default_sender_per_account",
                violation_error_message="An account has only one default sender ID.",
            ),
        ]
        indexes = [
            # The compose page's selector: an account's usable senders.
            models.Index(fields=["account", "status"], name="sender_account_status"),
        ]

    def __str__(self) -> str:
        return self.value

    @property
    def is_usable(self) -> bool:
        return self.status == SenderStatus.ACTIVE and self.missing_since is None
