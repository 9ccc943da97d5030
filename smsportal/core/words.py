"""Words the code keeps as plain values (a status, a period's name) and pages show as they are,
with their translations: `word("delivered")` is "delivered" or "تم التسليم"."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy

WORDS = {
    # Delivery and message statuses (sms.status.DeliveryStatus, messaging.Message.Status).
    "queued": pgettext_lazy("status", "queued"),
    "sending": pgettext_lazy("status", "sending"),
    "submitted": pgettext_lazy("status", "submitted"),
    "delivered": pgettext_lazy("status", "delivered"),
    "undelivered": pgettext_lazy("status", "undelivered"),
    "expired": pgettext_lazy("status", "expired"),
    "rejected": pgettext_lazy("status", "rejected"),
    "failed": pgettext_lazy("status", "failed"),
    "unknown": pgettext_lazy("status", "unknown"),
    "cancelled": pgettext_lazy("status", "cancelled"),
    "skipped": pgettext_lazy("status", "skipped"),
    "draft": pgettext_lazy("status", "draft"),
    "scheduled": pgettext_lazy("status", "scheduled"),
    "done": pgettext_lazy("status", "done"),
    "running": pgettext_lazy("status", "running"),
    "preview": pgettext_lazy("status", "preview"),
    # Kinds of message (providers.backends.base.MessageType).
    "text": pgettext_lazy("message type", "text"),
    "flash": pgettext_lazy("message type", "flash"),
    "voice": pgettext_lazy("message type", "voice"),
    "binary": pgettext_lazy("message type", "binary"),
    "barcode": pgettext_lazy("message type", "barcode"),
    # Sender ID kinds (senders.validation.SenderKind).
    "numeric": pgettext_lazy("sender kind", "numeric"),
    "alphanumeric": pgettext_lazy("sender kind", "alphanumeric"),
    # The dashboard's periods (reports.queries.periods).
    "Today": gettext_lazy("Today"),
    "7 days": gettext_lazy("7 days"),
    "30 days": gettext_lazy("30 days"),
    "90 days": gettext_lazy("90 days"),
}


def word(value) -> str:
    """A stored word in the reader's language; a value not listed comes back unchanged."""
    return str(WORDS.get(str(value), value))


def listed(items: Iterable) -> str:
    """The items joined by the reader's comma: "a, b", in Arabic "a، b" (an English ", " read
    wrong in every Arabic sentence it joined)."""
    return (pgettext("between items of a list", ",") + " ").join(str(item) for item in items)


def quoted(name) -> str:
    """A name in the reader's quotation marks: “Order No”, in Arabic «Order No» (English
    quotes written around it read as foreign in every Arabic sentence)."""
    return pgettext("quotation marks around a name", "“%(name)s”") % {"name": name}
