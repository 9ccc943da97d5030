"""Making events: one row per event and endpoint, its JSON body fixed when made.

Incoming SMS are forwarded from the ingest signal (one query for the endpoints, one insert, then
tasks on commit: a provider's webhook never waits for an endpoint). Delivery status changes are
read from the delivery events table behind a cursor by the periodic `forward_due` task, so the
report paths (webhook, polling, SMPP) carry no extra work at all; a message's end comes from
messaging's `message_done` signal.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from smsportal.messaging.models import DeliveryEvent, InboundMessage, Message

from .models import Cursor, Endpoint, Event, EventType

# A delivery event is read this long after it was written: a transaction that took an id
# earlier but committed later is not jumped over by the cursor.
CURSOR_LAG = timedelta(seconds=10)
CURSOR_BATCH = 2_000


def subscribed(kind: str, account_id: int | None) -> list[Endpoint]:
    flag = {
        EventType.INCOMING: "on_incoming",
        EventType.STATUS: "on_status",
        EventType.DONE: "on_done",
    }[kind]
    rows = Endpoint.objects.filter(is_active=True, **{flag: True})
    if account_id is not None:
        rows = rows.filter(Q(accounts=None) | Q(accounts=account_id))
    return list(rows.distinct())


def body_for(kind: str, event_id: str, data: dict) -> str:
    payload = {
        "id": event_id,
        "type": str(kind),
        "created": timezone.now().isoformat(),
        "data": data,
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str)


def queue(endpoints: Iterable[Endpoint], kind: str, data: dict) -> list[Event]:
    """Queue one event per endpoint and its delivery once committed."""
    now = timezone.now()
    events = []
    for endpoint in endpoints:
        event_id = f"evt_{uuid.uuid4().hex}"
        events.append(
            Event(
                endpoint=endpoint,
                event_id=event_id,
                kind=kind,
                body=body_for(kind, event_id, data),
                next_attempt_at=now,
            )
        )
    if not events:
        return []
    Event.objects.bulk_create(events)
    ids = [e.pk for e in events]
    if None in ids:  # a database that returns no ids from a bulk insert
        ids = list(
            Event.objects.filter(event_id__in=[e.event_id for e in events]).values_list(
                "pk", flat=True
            )
        )
    transaction.on_commit(lambda: _enqueue(ids), robust=True)
    return events


def _enqueue(ids: list[int]) -> None:
    from .tasks import deliver_event

    for pk in ids:
        deliver_event.enqueue(pk)


def incoming_data(message: InboundMessage) -> dict:
    return {
        "account": message.account.name,
        "account_id": message.account_id,
        "from": message.phone,
        "to": message.recipient,
        "text": message.text,
        "text_truncated": message.text_truncated,
        "received_at": message.received_at.isoformat(),
        "message_id": message.pk,
    }


def on_inbound(sender, message: InboundMessage, **kwargs) -> None:
    endpoints = subscribed(EventType.INCOMING, message.account_id)
    if endpoints:
        queue(endpoints, EventType.INCOMING, incoming_data(message))


def on_message_done(sender, message_id: int, **kwargs) -> None:
    message = Message.objects.select_related("account").filter(pk=message_id).first()
    if message is None:
        return
    endpoints = subscribed(EventType.DONE, message.account_id)
    if not endpoints:
        return
    from django.db.models import Count

    counts = dict(
        message.deliveries.values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    queue(
        endpoints,
        EventType.DONE,
        {
            "message_id": message.pk,
            "account": message.account.name,
            "account_id": message.account_id,
            "status": message.status,
            "recipients": message.recipient_count,
            "deliveries": counts,
            "completed_at": message.completed_at.isoformat() if message.completed_at else None,
        },
    )


def forward_status_changes() -> int:
    """Queue the delivery status changes written since the cursor (oldest first); the number
    of changes read. Without an endpoint that wants them, the cursor just moves on."""
    with transaction.atomic():
        cursor, _ = Cursor.objects.select_for_update().get_or_create(name="delivery-events")
        rows = list(
            DeliveryEvent.objects.filter(
                pk__gt=cursor.last_id, created_at__lte=timezone.now() - CURSOR_LAG
            )
            .select_related("delivery")
            .order_by("pk")[:CURSOR_BATCH]
        )
        if not rows:
            return 0
        wanting = Endpoint.objects.filter(is_active=True, on_status=True).prefetch_related(
            "accounts"
        )
        endpoints = [(e, {a.pk for a in e.accounts.all()}) for e in wanting]
        for row in rows if endpoints else ():
            d = row.delivery
            targets = [e for e, accounts in endpoints if not accounts or d.account_id in accounts]
            if targets:
                queue(targets, EventType.STATUS, status_data(row))
        cursor.last_id = rows[-1].pk
        cursor.save(update_fields=["last_id"])
    return len(rows)


def status_data(row: DeliveryEvent) -> dict:
    d = row.delivery
    return {
        "message_id": d.message_id,
        "delivery_id": d.pk,
        "account_id": d.account_id,
        "to": d.phone,
        "from_status": row.from_status,
        "status": row.to_status,
        "provider_status": row.provider_status,
        "description": row.description,
        "provider_message_id": d.provider_message_id,
        "at": row.created_at.isoformat(),
    }


def test_event(endpoint: Endpoint) -> Event:
    return queue(
        [endpoint],
        EventType.TEST,
        {"endpoint": endpoint.name, "note": "A test event sent from the SMS Portal."},
    )[0]
