"""The models whose changes django-auditlog records, field by field, and what it leaves out.

Left out: secrets (masked to a fingerprint: see masking.py), the user's password hash, and
fields that change by themselves (timestamps, last-seen marks) and would drown the changes
people make. Bulk writes (imports, list membership of a million contacts) bypass the model
signals on purpose: they are recorded as one explicit event each instead.
"""

from __future__ import annotations

from auditlog.registry import auditlog
from django.contrib.auth import get_user_model

MASK = "smsportal.audit.masking.hide"


def _register(model, exclude: tuple[str, ...] = (), **options) -> None:
    """Record the model's own columns (not its reverse relations, which auditlog would list on
    creation as "…None"), less `exclude`."""
    fields = [f.name for f in model._meta.concrete_fields if f.name not in exclude]
    auditlog.register(model, include_fields=fields, **options)


def register_models() -> None:
    # Imported here: called from AppConfig.ready, once every app's models are loaded.
    from smsportal.contacts.models import Contact, ContactList, OptOut
    from smsportal.departments.models import Department
    from smsportal.providers.models import ProviderAccount
    from smsportal.quotas.models import Quota  # (the same: every model is loaded by now)
    from smsportal.senders.models import SenderID

    _register(
        ProviderAccount,
        exclude=("created_at", "updated_at", "last_report_at", "last_inbound_at"),
        mask_fields=["password_ciphertext", "webhook_token", "previous_webhook_token", "options"],
        mask_callable=MASK,
    )
    _register(
        get_user_model(),
        exclude=("password", "last_login", "date_joined"),
        m2m_fields={"groups", "user_permissions"},
    )
    # Who is in which department decides what they see: recorded like a user's roles.
    _register(Department, exclude=("created_at",), m2m_fields={"members"})
    # `name_key` and `measures` are derived from the fields recorded (search key, placeholder
    # sizes): shown, they were internal numbers nobody had typed.
    _register(Contact, exclude=("name_key", "measures", "created_at", "updated_at"))
    _register(ContactList, exclude=("created_at",))
    _register(OptOut, exclude=("created_at",))
    _register(Quota, exclude=("created_at", "updated_at"))
    _register(SenderID, exclude=("created_at", "updated_at", "last_seen_at", "missing_since"))
