"""Recording an action in the audit trail: one line where the action happens.

    audit.record("message_sent", message, recipients=1204)

Who and from where come from the request being served (AuditContextMiddleware puts them in
django-auditlog's context), so a service deep below a view needs no request; outside a request
(a task, a command) the entry has no user, which the page shows as "system". Model changes
(before/after of each field) are recorded by django-auditlog itself for the models that
`smsportal.audit` registers; this is for actions that are not a model change, or say more.
"""

from __future__ import annotations

import json
from typing import Any

from auditlog.context import auditlog_value
from auditlog.middleware import AuditlogMiddleware
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from .client_ip import client_ip

# Every action the trail knows, with the words the audit page shows (in the reader's language).
# Model changes are "created", "changed", "deleted".
EVENTS = {
    "created": _("Created"),
    "changed": _("Changed"),
    "deleted": _("Deleted"),
    "login": _("Logged in"),
    "login_failed": _("Log-in failed"),
    "logout": _("Logged out"),
    "message_sent": _("Sent a message"),
    "message_scheduled": _("Scheduled a message"),
    "message_changed": _("Changed a scheduled message"),  # its text or time, before it went
    "message_cancelled": _("Cancelled a message"),
    "message_retried": _("Retried a message"),
    "token_rotated": _("Rotated a callback token"),
    "token_rotation_finished": _("Retired an old callback token"),
    "credit_transferred": _("Transferred credit"),
    "low_balance_alert": _("Sent a low-balance alert"),
    "quota_warning": _("Sent a quota warning"),
    "contacts_imported": _("Started a contact import"),
    "exported": _("Exported"),
    "two_factor_on": _("Turned two-factor log-in on"),
    "two_factor_off": _("Turned two-factor log-in off"),
    "recovery_codes_new": _("Made new recovery codes"),
    "prices_imported": _("Imported a price file"),
}


def record(
    event: str,
    obj: models.Model | None = None,
    *,
    changes: dict[str, tuple[Any, Any]] | None = None,
    actor=None,
    actor_name: str = "",
    request=None,
    **details: Any,
):
    """Add one entry: `event` (a key of EVENTS) about `obj` (or nothing), with `changes` as
    {field: (before, after)} and any `details` (counts, names, ids: never a secret).
    `actor`/`request` name who did it when that is not the request being served (log-in)."""
    from auditlog import get_logentry_model

    if event not in EVENTS:
        raise ValueError(f"unknown audit event {event!r}")
    entry_model = get_logentry_model()
    fields: dict[str, Any] = {
        "event": event,
        "action": entry_model.Action.ACCESS,
        "changes": _plain({k: [before, after] for k, (before, after) in changes.items()})
        if changes
        else None,
        "additional_data": _plain(details) or None,
        "actor_name": actor_name[:150],
    }
    if obj is not None:
        fields["content_type"] = ContentType.objects.get_for_model(obj)
        fields["object_pk"] = str(obj.pk)
        fields["object_id"] = obj.pk if isinstance(obj.pk, int) else None
        fields["object_repr"] = str(obj)[:500]
    if actor is not None and getattr(actor, "is_authenticated", False):
        fields["actor"] = actor
        fields["actor_email"] = getattr(actor, "email", None)
    if request is not None:
        fields["remote_addr"] = client_ip(request) or None
    return entry_model.objects.create(**fields)


def act_as(user) -> None:
    """Name `user` as who acts for the rest of the request being served. An API key's user is
    known only once the view has authenticated the key, after AuditContextMiddleware read the
    (then anonymous) user: without this, what an API call does is put down to "system"."""
    context = auditlog_value.get(None)
    if context is not None:
        context["actor"] = user


def diff(before: dict, after: dict) -> dict[str, tuple[Any, Any]]:
    """{name: (before, after)} for each name of `before` whose value `after` changes."""
    return {k: (v, after.get(k)) for k, v in before.items() if k in after and after[k] != v}


def send_event(message) -> str:
    """A send now, or one for later."""
    return "message_scheduled" if getattr(message, "scheduled_for", None) else "message_sent"


def _plain(value: Any) -> Any:
    """JSON-safe (Decimal, dates, ids) for the entry's JSON fields."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, default=str))


class AuditContextMiddleware(AuditlogMiddleware):
    """django-auditlog's middleware, with the client's address as our trusted proxies report it
    (core/client_ip.py), not as any X-Forwarded-For header claims."""

    def __call__(self, request):
        try:
            return super().__call__(request)
        finally:
            # auditlog leaves its context set after the request: a task run next in this thread
            # would be put down to this request's user.
            auditlog_value.set({})

    @staticmethod
    def _get_remote_addr(request):
        return client_ip(request) or None

    @staticmethod
    def _get_remote_port(request):
        return None
