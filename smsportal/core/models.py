"""The core app's tables: what a person chooses for themselves (Preference), and the audit
trail's one table (AuditEntry).

django-auditlog writes an AuditEntry for each change to a registered model (who, from where, the
before and after of each changed field); `smsportal.core.audit.record` writes one for each
action that is not a model change (log-in, send, export …). One table, so one page filters,
pages and exports both. The table is append-only: nothing in the portal or the admin edits or
deletes an entry (`save` refuses a second write).
"""

from __future__ import annotations

from auditlog.models import AbstractLogEntry
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext_lazy as _


class Digits(models.TextChoices):
    LATIN = "latin", _("Latin (0123456789)")
    ARABIC = "arabic", _("Arabic-Indic (٠١٢٣٤٥٦٧٨٩)")


class Preference(models.Model):
    """One row per user who has chosen something; a user without one gets the browser's
    language, the server's time zone and Latin digits."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference"
    )
    # Blank: the browser's language. A code no longer in LANGUAGES reads as English
    # (smsportal.core.locale.user_language), never as an error page.
    language = models.CharField(_("language"), max_length=10, blank=True)
    # Blank: the server's TIME_ZONE. An IANA name, e.g. Asia/Kuwait.
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    digits = models.CharField(
        _("digits"), max_length=10, choices=Digits.choices, default=Digits.LATIN
    )

    class Meta:
        verbose_name = _("preference")
        verbose_name_plural = _("preferences")

    def __str__(self) -> str:
        return str(self.user)


class AuditEntry(AbstractLogEntry):
    # Model changes carry the model; an action may concern no object (a failed log-in).
    content_type = models.ForeignKey(
        "contenttypes.ContentType",
        on_delete=models.SET_NULL,  # a model removed from the code: the entry keeps its text
        null=True,
        blank=True,
        related_name="+",
        verbose_name="object type",
    )
    object_pk = models.CharField("object id", max_length=255, blank=True, db_index=True)
    object_repr = models.TextField("object", blank=True)
    # What happened, in the portal's words: "created", "changed", "deleted" for model changes
    # (from auditlog's action), else one of smsportal.core.audit.EVENTS.
    event = models.CharField(max_length=40, db_index=True)
    # Who, as they were called then: kept when the user is deleted; for a failed log-in, the
    # name that was typed.
    actor_name = models.CharField("user name", max_length=150, blank=True, db_index=True)

    class Meta(AbstractLogEntry.Meta):
        verbose_name = "audit entry"
        verbose_name_plural = "audit trail"
        ordering = ["-timestamp", "-id"]
        indexes = [
            # The page's keyset paging and its filters, newest first.
            models.Index(fields=["-timestamp", "-id"], name="audit_newest"),
            models.Index(fields=["event", "-timestamp"], name="audit_event_newest"),
            models.Index(fields=["actor", "-timestamp"], name="audit_actor_newest"),
            models.Index(
                fields=["content_type", "object_pk", "-timestamp"], name="audit_object_newest"
            ),
        ]

    MODEL_EVENTS = {
        AbstractLogEntry.Action.CREATE: "created",
        AbstractLogEntry.Action.UPDATE: "changed",
        AbstractLogEntry.Action.DELETE: "deleted",
        AbstractLogEntry.Action.ACCESS: "viewed",
    }

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionDenied("Audit entries cannot be changed.")
        if not self.event:
            self.event = self.MODEL_EVENTS.get(self.action, "changed")
        if self.actor_id and not self.actor_name:
            self.actor_name = self.actor.get_username()[:150]
        super().save(*args, **kwargs)
        # Who and from where come from the request being served: auditlog's pre_save receiver
        # (AuditContextMiddleware) set them during the insert, after the lines above ran.
        if self.actor_id and not self.actor_name:
            self.actor_name = self.actor.get_username()[:150]
            type(self).objects.filter(pk=self.pk).update(actor_name=self.actor_name)

    def delete(self, *args, **kwargs):
        raise PermissionDenied("Audit entries cannot be deleted.")
