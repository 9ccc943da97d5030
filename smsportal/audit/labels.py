"""The words of the audit page that come from models and from what was recorded: the kinds of
object, the names of the recorded fields, and the names of an action's details, in the
reader's language.

Most models name themselves and their fields in English (verbose names written in code, not
marked: marking them would mean a migration in every app for words only this page shows), and
an entry's details are stored under English keys; the page translates them here. A name marked
where it is defined (a department's "members", a user's "username": Django's own) is used as
it is. tests/audit/test_audit_in_arabic.py fails when a recorded field has no words here."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

# The kinds of object entries are about, by "app_label.model".
KINDS = {
    "providers.provideraccount": _("Provider account"),
    "contacts.contact": _("Contact"),
    "contacts.contactlist": _("Contact list"),
    "contacts.contactfield": _("Contact field"),
    "contacts.optout": _("Opt-out"),
    "contacts.importjob": _("Contact import"),
    "senders.senderid": _("Sender ID"),
    "messaging.message": _("Message"),
    "credits.credittransfer": _("Credit transfer"),
    "routing.route": _("Route"),
    "recurring.recurringsend": _("Recurring send"),
    "message_templates.messagetemplate": _("Message template"),
    "keywords.keywordrule": _("Keyword rule"),
    "forwarding.endpoint": _("Forwarding endpoint"),
    "api.apikey": _("API key"),
}

# The recorded fields, by their name in the model (the same word in every model).
FIELDS = {
    "id": _("ID"),
    "name": _("name"),
    "kind": _("kind"),
    "base_url": _("base URL"),
    "username": _("username"),
    "password_ciphertext": _("password"),
    "options": _("options"),
    "price_per_segment": _("price per segment"),
    "max_parts": _("max parts"),
    "low_balance_threshold": _("low balance threshold"),
    "low_balance_emails": _("low-balance alert addresses"),
    "low_balance_alerted": _("low balance alerted"),
    "allows_credit": _("allows credit"),
    "is_active": _("active"),
    "webhook_token": _("callback token"),
    "previous_webhook_token": _("previous callback token"),
    "ip_allowlist": _("IP allow-list"),
    "phone": _("phone"),
    "email": _("email"),
    "attributes": _("attributes"),
    "description": _("description"),
    "reason": _("reason"),
    "note": _("note"),
    "created_by": _("created by"),
    "confirmation_message_id": _("confirmation message"),
    "account": _("account"),
    "value": _("sender ID"),
    "status": _("status"),
    "is_default": _("default"),
    "source": _("source"),
}

# The names of an action's details (core.audit.record's keyword arguments).
DETAILS = {
    "recipients": _("recipients"),
    "what": _("what"),
    "filters": _("filters"),
    "list": _("list"),
    "since": _("from"),
    "until": _("to"),
    "balance": _("balance"),
    "to": _("sent to"),
    "withdrawn": _("withdrawn"),
    "new_message": _("new message"),
    "prices": _("prices"),
    "metric": _("measure"),
    "used": _("used"),
    "step": _("step"),
    "amount": _("amount"),
    "customer": _("customer"),
}

# Details that are counts, shown with thousands separators ("recipients: 1,204"); other numbers
# (a new message's id) are names, shown as they are.
COUNTS = frozenset({"recipients", "withdrawn", "prices"})

# What an export was of (the detail "what"), as recorded.
EXPORTS = {
    "quota usage": _("quota usage"),
    "rejected rows of an import": _("rejected rows of an import"),
    "audit trail": _("audit trail"),
    "contacts": _("contacts"),
    "deliveries": _("deliveries"),
}


def kind_name(content_type) -> str:
    """A kind of object as the page names it ("Contact list")."""
    key = f"{content_type.app_label}.{content_type.model}"
    return str(KINDS[key]) if key in KINDS else content_type.name.capitalize()
