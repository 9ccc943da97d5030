"""API keys, the messages sent with them, and the idempotency records of their sends.

A key's secret is shown once, when it is made, and only its SHA-256 is kept: the secret is 32
random bytes, so a slow password hash would add nothing but latency to every request. The key's
first characters (its prefix, not secret) find the row; the hash is compared in constant time.
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

KEY_PREFIX = "smsp"  # lets secret scanners and people recognise a portal key


class Scope(models.TextChoices):
    SEND = "send", _("Send, cancel and preview messages")
    READ = "read", _("Read messages, accounts, sender IDs and the inbox")
    CONTACTS = "contacts", _("Manage contacts, lists and opt-outs")
    ADMIN = "admin", _("Lift an opt-out made by keyword or by a Manager (Managers only)")


def hash_secret(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiKeyQuerySet(models.QuerySet):
    def usable(self):
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiKey(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=80)
    # What the key sends as, and all it can read or change: one department of its user's.
    department = models.ForeignKey(
        "departments.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="api_keys",
    )
    # The public part of the secret (after "smsp_"): finds the row without storing the secret.
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)  # values of Scope
    # One address or network per line; empty: any address.
    allowed_addresses = models.TextField(blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_from = models.GenericIPAddressField(null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="api_key_name_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({KEY_PREFIX}_{self.prefix}…)"

    @classmethod
    def issue(cls, user, name: str, scopes: list[str], **fields) -> tuple[ApiKey, str]:
        """Create a key; returns it with its secret, which exists nowhere else afterwards."""
        prefix = secrets.token_hex(6)
        raw = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
        key = cls.objects.create(
            user=user,
            name=name,
            prefix=prefix,
            secret_hash=hash_secret(raw),
            scopes=sorted(set(scopes)),
            **fields,
        )
        return key, raw

    @staticmethod
    def split(raw: str) -> tuple[str, str] | None:
        """(prefix, whole) of a presented key, or None when it has not the shape of one."""
        parts = raw.split("_", 2)  # the random part may itself hold "_"
        if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
            return None
        return parts[1], raw

    def matches(self, raw: str) -> bool:
        return secrets.compare_digest(self.secret_hash, hash_secret(raw))

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def state(self) -> str:
        return "revoked" if self.is_revoked else "expired" if self.is_expired else "active"

    def networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return [
            ipaddress.ip_network(line.strip(), strict=False)
            for line in self.allowed_addresses.splitlines()
            if line.strip()
        ]

    def allows_address(self, address: str) -> bool:
        networks = self.networks()
        if not networks:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in networks)

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def revoke(self) -> bool:
        """Revoke now; False when it was revoked already (a conditional update, no race)."""
        now = timezone.now()
        done = ApiKey.objects.filter(pk=self.pk, revoked_at__isnull=True).update(revoked_at=now)
        if done:
            self.revoked_at = now
        return bool(done)

    # Recording every request's time would be one more write per request; once a minute (or
    # from a new address) says the same to the person reading the profile page.
    USE_RECORD_SECONDS = 60

    def record_use(self, address: str) -> None:
        now = timezone.now()
        stale = now - timedelta(seconds=self.USE_RECORD_SECONDS)
        if (
            self.last_used_at
            and self.last_used_at > stale
            and (self.last_used_from or "") == address
        ):
            return
        ApiKey.objects.filter(pk=self.pk).update(last_used_at=now, last_used_from=address or None)
        self.last_used_at, self.last_used_from = now, address or None


class ApiMessage(models.Model):
    """A message sent through the API: which key sent it (the page shows "via API (name)")."""

    message = models.OneToOneField(
        "messaging.Message", on_delete=models.CASCADE, related_name="api_origin"
    )
    key = models.ForeignKey(ApiKey, null=True, on_delete=models.SET_NULL, related_name="+")
    key_name = models.CharField(max_length=80)  # kept if the key is ever deleted

    def __str__(self) -> str:
        return f"via API ({self.key_name})"


class IdempotencyRecord(models.Model):
    """The first answer to a send with an `Idempotency-Key`, replayed to repeats for 24 hours.

    The unique constraint is what makes concurrent duplicates safe: the first insert wins, the
    others fail on it (PostgreSQL makes them wait for the winner's commit first) and replay the
    winner's answer."""

    WINDOW = timedelta(hours=24)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    message = models.ForeignKey(
        "messaging.Message", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    status_code = models.PositiveSmallIntegerField(default=202)
    response = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_per_user")
        ]

    def __str__(self) -> str:
        return self.key
