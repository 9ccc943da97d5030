"""The parts of a long text that a provider accepted one by one (SMPP: a submit_sm and a message id
per part, and a receipt per part).

Decision (docs/providers.md, "SMS Centre"): a delivery counts as delivered when every one of its
parts has been reported delivered; it is undelivered, expired or rejected as soon as any part is
(the handset cannot show the whole text); a part reported "unknown", once every part has reported,
makes the delivery unknown. Until then a part's receipt is recorded on the part and the delivery
keeps its status. A delivery whose parts are not all known (the link broke half-way through) can
therefore end `unknown` but never `delivered`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

from django.db import transaction

from smsportal.providers.backends.base import StatusUpdate
from smsportal.sms.status import DeliveryStatus

from .models import Delivery, DeliveryPart

FAILURES = (DeliveryStatus.UNDELIVERED, DeliveryStatus.EXPIRED, DeliveryStatus.REJECTED)
PART_FINAL = {DeliveryStatus.DELIVERED, DeliveryStatus.UNKNOWN, *FAILURES}


def combined(statuses: Sequence[str], total: int) -> DeliveryStatus | None:
    """The delivery's status from its known parts' statuses (in part order) and the number of
    parts it was cut into; None while the parts do not yet settle it."""
    for status in statuses:
        if status in FAILURES:
            return DeliveryStatus(status)
    if len(statuses) < total or any(s not in PART_FINAL for s in statuses):
        return None
    if all(s == DeliveryStatus.DELIVERED for s in statuses):
        return DeliveryStatus.DELIVERED
    return DeliveryStatus.UNKNOWN


def record_parts(account_id: int, parts: Iterable[tuple[int, Sequence[str]]]) -> None:
    """Keep every part's id: `parts` is (delivery id, the ids of its parts in order)."""
    DeliveryPart.objects.bulk_create(
        (
            DeliveryPart(
                delivery_id=delivery_id,
                account_id=account_id,
                number=number,
                provider_message_id=part_id,
            )
            for delivery_id, part_ids in parts
            for number, part_id in enumerate(part_ids, start=1)
        ),
        batch_size=1000,
        ignore_conflicts=True,  # a batch recorded twice keeps the first record
    )


def _part(account_id: int, provider_message_id: str) -> DeliveryPart | None:
    return (
        DeliveryPart.objects.filter(account_id=account_id, provider_message_id=provider_message_id)
        .order_by("pk")
        .first()
    )


def through_parts(account_id: int, update: StatusUpdate) -> tuple[bool, StatusUpdate | None]:
    """Route a report through the part it names, if it names one: (whether a part matched, the
    update to apply to the delivery now or None). A report for no part is returned unchanged."""
    part = _part(account_id, update.provider_message_id)
    if part is None:
        return False, update
    with transaction.atomic():
        # A final word about a part is not taken back by a later "en route".
        DeliveryPart.objects.filter(pk=part.pk).exclude(status__in=PART_FINAL).update(
            status=update.status
        )
        statuses = list(
            DeliveryPart.objects.filter(delivery_id=part.delivery_id)
            .order_by("number")
            .values_list("status", flat=True)
        )
        delivery = Delivery.objects.only("provider_message_id", "segments").get(pk=part.delivery_id)
    status = combined(statuses, delivery.segments)
    if status is None:
        return True, None
    description = update.description
    if len(statuses) > 1:
        description = f"{description} (part {part.number} of {delivery.segments})".strip()
    return True, dataclasses.replace(
        update,
        provider_message_id=delivery.provider_message_id,
        status=status,
        description=description,
        recipient="",
        raw={**update.raw, "part": part.number, "part_id": part.provider_message_id},
    )
