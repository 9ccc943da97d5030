"""Sender IDs: the names and numbers an account may send from."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from smsportal.providers.models import ProviderAccount

from .validation import SenderKind


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

    objects = SenderIDQuerySet.as_manager()

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
