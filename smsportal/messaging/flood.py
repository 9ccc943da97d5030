"""A provider's flood rules (`Capabilities.flood_rules`, declared by the backend) checked against
the account's own sending history, which only messaging knows.

Checked when staff send (compose refuses with the reason) and again when a scheduled message's
time comes: the history may have changed since it was written, so a message that would now break
a rule waits until it no longer would, and says why on its page.

A delivery counts from the moment it went to the provider (`sending_at`); one not yet claimed by
a worker counts from when it was queued, unless its message waits for a scheduled time. Failed,
cancelled and skipped deliveries never reached the provider and do not count.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import date_format

from smsportal.providers.backends.base import FloodRefused, FloodRules
from smsportal.sms.status import DeliveryStatus

from .models import Delivery, Message

NOT_SENT = [
    DeliveryStatus.FAILED,
    DeliveryStatus.CANCELLED,
    DeliveryStatus.SKIPPED,
]
HOLD_MARGIN = timedelta(seconds=1)  # go just after the rule stops applying, not on its edge


@dataclass(frozen=True)
class Flood:
    """A rule this send would break: why (a sentence for staff), and when it no longer would."""

    reason: str
    code: str
    until: datetime


def _history(account, since: datetime, exclude_message_id: int | None):
    """The account's deliveries that reached (or are about to reach) the provider since `since`,
    each with `at`, the time it counts from."""
    rows = (
        Delivery.objects.filter(account=account)
        .filter(
            Q(sending_at__gte=since)
            | Q(
                status=DeliveryStatus.QUEUED,
                queued_at__gte=since,
                message__scheduled_for__isnull=True,
            )
        )
        .exclude(status__in=NOT_SENT)
        .annotate(at=Coalesce(F("sending_at"), F("queued_at")))
    )
    if exclude_message_id is not None:
        rows = rows.exclude(message_id=exclude_message_id)
    return rows


def find(
    account,
    text: str,
    phones: Iterable[str],
    *,
    exclude_message_id: int | None = None,
    now: datetime | None = None,
) -> Flood | None:
    """The first of the account's flood rules that sending `text` to `phones` now would break.
    Reads a bounded window of history in a few queries, never one per recipient."""
    rules: FloodRules | None = account.backend.capabilities.flood_rules
    if rules is None:
        return None
    now = now or timezone.now()
    wanted = set(phones)
    label = account.backend.label
    if rules.identical_window:
        since = now - rules.identical_window
        last: dict[str, datetime] = {}
        for phone, at in (
            _history(account, since, exclude_message_id)
            .filter(message__body=text)
            .values_list("phone", "at")
        ):
            if phone in wanted and at >= since:
                last[phone] = max(at, last.get(phone, at))
        if last:
            first = sorted(last)[0]
            return Flood(
                f"{label} refuses the same text to the same number within a minute, and "
                f"{len(last):,} of these recipients (first: {first}) got this text less than a "
                "minute ago. Wait a minute, or change the text.",
                "flood-identical",
                max(last.values()) + rules.identical_window + HOLD_MARGIN,
            )
    if rules.subscriber_limit and rules.subscriber_gap:
        return _subscriber_flood(account, rules, wanted, now, exclude_message_id, label)
    return None


def _subscriber_flood(account, rules, wanted, now, exclude_message_id, label) -> Flood | None:
    limit, gap = rules.subscriber_limit, rules.subscriber_gap
    recent = _history(account, now - gap * limit, exclude_message_id)
    # Only numbers with `limit` or more messages in the window can be in such a run: find them
    # with one aggregate, then read their times.
    busy = [
        phone
        for phone in recent.values("phone")
        .annotate(n=Count("id"))
        .filter(n__gte=limit)
        .values_list("phone", flat=True)
        if phone in wanted
    ]
    times: dict[str, list[datetime]] = defaultdict(list)
    for phone, at in recent.filter(phone__in=busy).values_list("phone", "at"):
        times[phone].append(at)
    for phone, stamps in sorted(times.items()):
        stamps.sort(reverse=True)
        chain, previous = 0, now
        for at in stamps:  # newest first: the run of messages each less than `gap` apart
            if previous - at >= gap:
                break
            chain, previous = chain + 1, at
        if chain >= limit:
            return Flood(
                f"{label} blocks more than {limit} messages to one number sent less than "
                f"{gap.seconds} seconds apart, and {phone} has had {chain:,} in a row. Wait "
                f"{gap.seconds} seconds.",
                "flood-subscriber",
                stamps[0] + gap + HOLD_MARGIN,
            )
    return None


def check(account, text: str, phones: Iterable[str]) -> None:
    """Refuse, before anything is created or sent, what the provider would refuse or block."""
    flood = find(account, text, phones)
    if flood:
        raise FloodRefused(flood.reason, code=flood.code)


def hold_if_flooding(message_id: int) -> bool:
    """When a scheduled message's time comes: if sending it now would break a flood rule, move
    it to when it no longer would, note why on the message, enqueue it for then, and return
    True. Otherwise clear any earlier note and return False (the caller dispatches it)."""
    message = Message.objects.select_related("account").get(pk=message_id)
    if message.status != Message.Status.SCHEDULED:
        return False
    phones = (
        Delivery.objects.filter(message=message, status=DeliveryStatus.QUEUED)
        .values_list("phone", flat=True)
        .iterator(chunk_size=10_000)
    )
    flood = find(message.account, message.body, phones, exclude_message_id=message.pk)
    if flood is None:
        if message.held_reason:
            Message.objects.filter(pk=message.pk).update(held_reason="")
        return False
    when = date_format(timezone.localtime(flood.until), "Y-m-d H:i:s")  # as on the page
    with transaction.atomic():
        moved = Message.objects.filter(
            pk=message.pk, status=Message.Status.SCHEDULED, scheduled_for=message.scheduled_for
        ).update(
            scheduled_for=flood.until,
            held_reason=f"Held back until {when}: {flood.reason}",
        )
        if moved:
            message.refresh_from_db()
            transaction.on_commit(message.send)
    return True
