"""Endpoints of other systems that receive the portal's events (outgoing webhooks), each event
queued for each endpoint, and the log of every attempt to deliver one."""

from __future__ import annotations

import secrets

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from smsportal.providers import crypto


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class EventType(models.TextChoices):
    INCOMING = "sms.incoming", _("incoming SMS")
    STATUS = "delivery.status", _("delivery status change")
    DONE = "message.done", _("message done")
    TEST = "test", _("test event")


class Endpoint(models.Model):
    name = models.CharField(max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    on_incoming = models.BooleanField(_("incoming SMS"), default=True)
    on_status = models.BooleanField(_("delivery status changes"), default=False)
    on_done = models.BooleanField(_("message done"), default=False)
    accounts = models.ManyToManyField(
        "providers.ProviderAccount",
        blank=True,
        related_name="+",
        help_text=_("Only events of these accounts; none chosen: every account."),
    )
    # Encrypted with the portal's field key (as provider passwords are); shown once, when made.
    secret_encrypted = models.TextField(editable=False)
    # During a rotation the old secret still signs too (a second signature in the header),
    # until staff finish the rotation once the receiving system knows the new one.
    previous_secret_encrypted = models.TextField(blank=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    disabled_reason = models.TextField(blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("forwarding:detail", args=[self.pk])

    @property
    def secret(self) -> str:
        return crypto.decrypt(self.secret_encrypted)

    @property
    def signing_secrets(self) -> list[str]:
        found = [self.secret]
        if self.previous_secret_encrypted:
            found.append(crypto.decrypt(self.previous_secret_encrypted))
        return found

    def set_new_secret(self) -> str:
        secret = new_secret()
        self.secret_encrypted = crypto.encrypt(secret)
        return secret

    def rotate_secret(self) -> str:
        """A new secret; the current one keeps signing until `finish_rotation`."""
        self.previous_secret_encrypted = self.secret_encrypted
        secret = self.set_new_secret()
        self.save(update_fields=["secret_encrypted", "previous_secret_encrypted"])
        return secret

    def finish_rotation(self) -> None:
        self.previous_secret_encrypted = ""
        self.save(update_fields=["previous_secret_encrypted"])

    @property
    def event_labels(self) -> list[str]:
        chosen = [
            (self.on_incoming, EventType.INCOMING),
            (self.on_status, EventType.STATUS),
            (self.on_done, EventType.DONE),
        ]
        return [str(kind.label) for on, kind in chosen if on]


class Event(models.Model):
    """One event for one endpoint: its body is fixed when made (a retry sends the same bytes,
    with the same id, so the receiver can drop a repeat)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting to be delivered")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("given up")

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="events")
    event_id = models.CharField(max_length=40, unique=True)
    kind = models.CharField(max_length=20, choices=EventType.choices)
    body = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="forwarding_event_due",
                condition=models.Q(status="pending"),
            ),
            models.Index(fields=["endpoint", "-id"], name="forwarding_event_endpoint"),
            # An endpoint's delivery task takes its own due events, oldest due first.
            models.Index(
                fields=["endpoint", "next_attempt_at"],
                name="forwarding_event_endpoint_due",
                condition=models.Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.event_id} → {self.endpoint_id}"


class Attempt(models.Model):
    """One HTTP request to an endpoint. Only the latest ATTEMPTS_KEPT per endpoint are kept."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="attempts")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(auto_now_add=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    ok = models.BooleanField(default=False)
    error = models.CharField(max_length=300, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["endpoint", "-id"], name="forwarding_attempt_endpoint")]

    def __str__(self) -> str:
        return f"{self.endpoint_id} {self.status_code or self.error}"


class Cursor(models.Model):
    """How far the forwarder has read a table it follows (delivery events, finished messages)."""

    name = models.CharField(max_length=40, unique=True)
    last_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} at {self.last_id}"
