"""Making events: one row per event and endpoint, its JSON body fixed when made.

Incoming SMS are forwarded from the ingest signal, in the transaction that stores the SMS: the
endpoints that want it are kept in memory (`incoming_endpoints`), so ingest adds one insert of
its events and no query; delivery runs in tasks, one per endpoint, each taking that endpoint's
waiting events in batches (`wake`), so a provider's webhook never waits for an endpoint.
Delivery status changes are read from the delivery events table behind a cursor by the periodic
`forward_due` task, so the report paths (webhook, polling, SMPP) carry no extra work at all; a
message's end comes from messaging's `message_done` signal.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterable
from datetime import timedelta

from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends

from smsportal.core.queueing import enqueue_on_commit
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
    """Queue one event per endpoint (in the caller's transaction) and wake each endpoint's
    delivery once committed."""
    now = timezone.now()
    events = []
    for endpoint in endpoints:
        event_id = f"evt_{uuid.uuid4().hex}"
        events.append(
            Event(
                endpoint_id=endpoint if isinstance(endpoint, int) else endpoint.pk,
                event_id=event_id,
                kind=kind,
                body=body_for(kind, event_id, data),
                next_attempt_at=now,
            )
        )
    if not events:
        return []
    Event.objects.bulk_create(events)
    wake({e.endpoint_id for e in events})
    return events


# Waking an endpoint's delivery is a task row per call. At ingest's rates (hundreds of SMS a
# second) one per event would bury the workers under tasks that each find nothing left to do,
# so each process wakes an endpoint at most twice per window: at once for the first event of the
# window, and once more, deferred to the window's end, for those that come after it (they are
# committed by then, as a wake is queued in the transaction of an event that is). Whatever a
# lost wake leaves behind (a rolled-back transaction that carried one), the periodic
# `forward_due` wakes every endpoint with events due.
WAKE_WINDOW_SECONDS = 0.5
_windows: dict[int, tuple[float, bool]] = {}  # endpoint id -> (window's end, deferred wake queued)
_windows_lock = threading.Lock()


def wake(endpoint_ids: Iterable[int]) -> None:
    from .tasks import deliver_pending

    deferrable = task_backends[DEFAULT_TASK_BACKEND_ALIAS].supports_defer
    for endpoint_id in endpoint_ids:
        if not deferrable:  # the immediate backend of the tests: each event delivered at once
            enqueue_on_commit(deliver_pending, endpoint_id)
            continue
        now = time.monotonic()
        with _windows_lock:
            ends, deferred = _windows.get(endpoint_id, (0.0, False))
            if now >= ends:
                _windows[endpoint_id] = (now + WAKE_WINDOW_SECONDS, False)
                run_after = None
            elif not deferred:
                _windows[endpoint_id] = (ends, True)
                run_after = timezone.now() + timedelta(seconds=ends - now)
            else:
                continue
        task = deliver_pending.using(run_after=run_after) if run_after else deliver_pending
        enqueue_on_commit(task, endpoint_id)


# The endpoints that want incoming SMS, read once and kept for a few seconds (every incoming SMS
# asks). Saving or deleting an endpoint, or changing its accounts, forgets them at once in this
# process; other processes read them again within ENDPOINTS_SECONDS. An endpoint disabled
# meanwhile gets no request: its delivery finds it disabled and gives the event up.
ENDPOINTS_SECONDS = 5
_ENDPOINTS_KEY = "forwarding:incoming-endpoints"


def incoming_endpoints(account_id: int) -> list[int]:
    """Ids of the active endpoints that want the incoming SMS of the account."""
    wanting = cache.get(_ENDPOINTS_KEY)
    if wanting is None:
        wanting = [
            (endpoint.pk, frozenset(a.pk for a in endpoint.accounts.all()))
            for endpoint in Endpoint.objects.filter(
                is_active=True, on_incoming=True
            ).prefetch_related("accounts")
        ]
        cache.set(_ENDPOINTS_KEY, wanting, ENDPOINTS_SECONDS)
    return [pk for pk, accounts in wanting if not accounts or account_id in accounts]


@receiver([post_save, post_delete], sender=Endpoint)
@receiver(m2m_changed, sender=Endpoint.accounts.through)
def forget_endpoints(**kwargs) -> None:
    cache.delete(_ENDPOINTS_KEY)


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
    endpoints = incoming_endpoints(message.account_id)
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
