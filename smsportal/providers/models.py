"""A provider account: where the portal sends, with whose credentials, at what price."""

from __future__ import annotations

import secrets
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from . import crypto
from .registry import KIND_CHOICES, backend_class

if TYPE_CHECKING:
    from .backends.base import Backend


CALLBACK_NOTE_INTERVAL = timedelta(minutes=1)


def new_webhook_token() -> str:
    return secrets.token_urlsafe(32)


class ProviderAccount(models.Model):
    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=32, choices=KIND_CHOICES)
    base_url = models.CharField(
        "base URL",
        max_length=255,
        blank=True,
        help_text="Leave empty for the provider's real service. SMS Centre takes smpp://host:port.",
    )
    username = models.CharField(max_length=150)
    # Fernet ciphertext; read and write through `password` only. Never rendered back to anyone.
    password_ciphertext = models.TextField(blank=True, editable=False)
    options = models.JSONField(
        default=dict, blank=True, help_text="Settings particular to this kind of provider."
    )
    price_per_segment = models.DecimalField(
        max_digits=10,
        decimal_places=4,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Credits charged per SMS segment, for estimates.",
    )
    max_parts = models.PositiveSmallIntegerField(
        default=10,
        validators=[MinValueValidator(1)],
        help_text="The most segments one message may use on this account.",
    )
    low_balance_threshold = models.DecimalField(
        max_digits=14,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="Warn on the dashboard and compose page when the balance falls below this.",
    )
    low_balance_emails = models.TextField(
        "low-balance alert addresses",
        blank=True,
        help_text="E-mail addresses (one per line) told once each time the balance falls below "
        "the low-balance warning; again only after it has been back above it.",
    )
    # Set when the balance fell below the threshold and the addresses were told; cleared when a
    # reading is back at or above it. One alert per crossing, not one per refresh.
    low_balance_alerted = models.BooleanField(default=False, editable=False)
    allows_credit = models.BooleanField(
        default=False,
        help_text="The provider lets this account go below zero, so a Manager may send past "
        "the balance.",
    )
    is_active = models.BooleanField("active", default=True)
    # Providers that call us (ISMS) put this token in the callback URL. During a rotation the
    # previous token is still accepted until it is cleared.
    webhook_token = models.CharField(max_length=64, default=new_webhook_token, unique=True)
    previous_webhook_token = models.CharField(max_length=64, blank=True, db_index=True)
    ip_allowlist = models.TextField(
        "IP allow-list",
        blank=True,
        help_text="Addresses allowed to call this account's webhooks, one per line; empty "
        "allows any.",
    )
    # When the provider last called our webhooks (ISMS), kept to within about a minute: the
    # webhook writes it at most once a minute, not on every one of thousands of calls.
    last_report_at = models.DateTimeField("last delivery report", null=True, blank=True)
    last_inbound_at = models.DateTimeField("last incoming SMS", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("providers:detail", args=[self.pk])

    @property
    def password(self) -> str:
        return crypto.decrypt(self.password_ciphertext)

    @password.setter
    def password(self, value: str) -> None:
        self.password_ciphertext = crypto.encrypt(value)

    @property
    def has_password(self) -> bool:
        return bool(self.password_ciphertext)

    @property
    def backend_class(self) -> type[Backend]:
        return backend_class(self.kind)

    @property
    def backend(self) -> Backend:
        """The backend speaking for this account (a new one each time; it is cheap)."""
        return self.backend_class(self)

    @property
    def allowed_ips(self) -> list[str]:
        return [line.strip() for line in self.ip_allowlist.splitlines() if line.strip()]

    def rotate_webhook_token(self) -> None:
        """Issue a new token; the old one keeps working until `finish_token_rotation`."""
        self.previous_webhook_token = self.webhook_token
        self.webhook_token = new_webhook_token()
        self.save(update_fields=["webhook_token", "previous_webhook_token", "updated_at"])

    def finish_token_rotation(self) -> None:
        self.previous_webhook_token = ""
        self.save(update_fields=["previous_webhook_token", "updated_at"])

    def note_callback(self, field: str) -> None:
        """Record that the provider just called us (`last_report_at` or `last_inbound_at`),
        writing at most once a minute per account and process."""
        now = timezone.now()
        last = getattr(self, field)
        if last is not None and now - last < CALLBACK_NOTE_INTERVAL:
            return
        ProviderAccount.objects.filter(pk=self.pk).update(**{field: now})
        setattr(self, field, now)
