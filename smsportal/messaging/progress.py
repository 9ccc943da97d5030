"""Counts of a message's deliveries by status, for the progress bar and the messages list."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count

from .models import Delivery
from .status import DeliveryStatus

# Order and colour of the progress bar's segments (Bootstrap background classes).
BAR = [
    (DeliveryStatus.DELIVERED, "success"),
    (DeliveryStatus.SUBMITTED, "info"),
    (DeliveryStatus.SENDING, "primary"),
    (DeliveryStatus.QUEUED, "secondary"),
    (DeliveryStatus.UNKNOWN, "warning"),
    (DeliveryStatus.FAILED, "danger"),
    (DeliveryStatus.UNDELIVERED, "danger"),
    (DeliveryStatus.REJECTED, "danger"),
    (DeliveryStatus.EXPIRED, "dark"),
    (DeliveryStatus.CANCELLED, "light"),
    (DeliveryStatus.SKIPPED, "light"),
]


@dataclass
class Progress:
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def settled(self) -> int:
        """Deliveries no longer waiting for a worker."""
        waiting = self.counts.get(DeliveryStatus.QUEUED, 0) + self.counts.get(
            DeliveryStatus.SENDING, 0
        )
        return self.total - waiting

    @property
    def percent_settled(self) -> int:
        return round(100 * self.settled / self.total) if self.total else 100

    @property
    def bar(self) -> list[dict]:
        total = self.total or 1
        return [
            {
                "status": status.value,
                "css": css,
                "count": self.counts[status],
                "percent": 100 * self.counts[status] / total,
            }
            for status, css in BAR
            if self.counts.get(status)
        ]

    def get(self, status: str) -> int:
        return self.counts.get(status, 0)


def progress_of(message_ids: Iterable[int]) -> dict[int, Progress]:
    """Progress of several messages in one grouped query."""
    rows = (
        Delivery.objects.filter(message_id__in=list(message_ids))
        .values_list("message_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    result: dict[int, Progress] = {}
    for message_id, status, n in rows:
        result.setdefault(message_id, Progress({})).counts[status] = n
    return result


def progress(message_id: int) -> Progress:
    return progress_of([message_id]).get(message_id, Progress({}))
