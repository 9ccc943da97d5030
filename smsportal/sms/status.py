"""The one vocabulary of a delivery's state, shared by the models, the backends and the pages.

queued → sending → submitted → delivered | undelivered | expired | rejected, and from queued or
sending: failed, unknown, cancelled, skipped. Each provider maps its own codes onto these in one
table in its backend module.
"""

from __future__ import annotations

from django.db import models


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "queued"  # created, waiting for a worker
    SENDING = "sending", "sending"  # claimed by a worker; the request may be on the wire
    SUBMITTED = "submitted", "submitted"  # the provider accepted it; fate not yet reported
    DELIVERED = "delivered", "delivered"  # the handset received it
    UNDELIVERED = "undelivered", "undelivered"  # the network could not deliver it
    EXPIRED = "expired", "expired"  # validity ran out before delivery
    REJECTED = "rejected", "rejected"  # refused by the network or the provider after submission
    FAILED = "failed", "failed"  # the provider refused the request, with its code
    UNKNOWN = "unknown", "unknown"  # we cannot know whether it was sent; never re-sent blindly
    CANCELLED = "cancelled", "cancelled"  # withdrawn by staff before it was sent
    SKIPPED = "skipped", "skipped"  # never sent: opted out, invalid number, duplicate

    @property
    def colour(self) -> str:
        """The Bootstrap colour every page shows this status in (badge, progress bar)."""
        return COLOURS[self]

    @classmethod
    def final(cls) -> frozenset[DeliveryStatus]:
        """States no later report may move a delivery out of (the rule table's `FINAL`)."""
        from .status_rules import FINAL  # the table imports this module, so not at the top

        return FINAL


# Each status's colour, written once (Bootstrap's colour names: `text-bg-*`, `bg-*`), in the
# order the progress bar stacks them.
COLOURS: dict[DeliveryStatus, str] = {
    DeliveryStatus.DELIVERED: "success",
    DeliveryStatus.SUBMITTED: "info",
    DeliveryStatus.SENDING: "primary",
    DeliveryStatus.QUEUED: "secondary",
    DeliveryStatus.UNKNOWN: "warning",
    DeliveryStatus.FAILED: "danger",
    DeliveryStatus.UNDELIVERED: "danger",
    DeliveryStatus.REJECTED: "danger",
    DeliveryStatus.EXPIRED: "dark",
    DeliveryStatus.CANCELLED: "light",
    DeliveryStatus.SKIPPED: "light",
}
