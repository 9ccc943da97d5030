"""Background tasks (Django's Tasks API through the django_tasks backport).

The engine is chosen by settings (database worker by default, RQ on several machines); the tasks
only carry ids, and every state change they make is a conditional update, so a task that runs
twice or on two machines at once does no harm.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django_tasks import task

from . import dispatch


@task()
def dispatch_message(message_id: int, scheduled_for: str | None = None) -> int:
    """Start a message: one `send_batch` task per batch. Returns the number of batches.

    A scheduled message carries the time it was enqueued for; if staff moved it since, this run
    is stale (a new task was enqueued for the new time) and does nothing.
    """
    from .models import Message

    if scheduled_for is not None:
        current = Message.objects.filter(pk=message_id).values_list("scheduled_for", flat=True)
        if not current or current[0] is None or current[0].isoformat() != scheduled_for:
            return 0
        from .flood import hold_if_flooding

        if hold_if_flooding(message_id):  # re-enqueued for when the provider would take it
            return 0
    ranges = dispatch.start(message_id)
    for first_id, last_id in ranges:
        send_batch.enqueue(message_id, first_id, last_id)
    return len(ranges)


@task()
def send_batch(message_id: int, first_id: int, last_id: int) -> int:
    return dispatch.send_batch(message_id, first_id, last_id)


@task()
def sweep_stuck_deliveries() -> int:
    """After a worker died: its claimed deliveries become `unknown` (never sent again) — except
    at a provider that deduplicates (ISMS), where they are sent again with the same reference —
    and the batches it never started are enqueued again."""
    timeout = timedelta(seconds=settings.SENDING_TIMEOUT_SECONDS)
    resend = dispatch.requeue_repeatable(timeout)  # first: what may go again safely
    swept = dispatch.sweep_stuck(timeout)
    for message_id, first_id, last_id in {*resend, *dispatch.stalled_batches(timeout)}:
        send_batch.enqueue(message_id, first_id, last_id)
    return swept


@task()
def poll_delivery_reports() -> int:
    from .delivery_reports.polling import poll_all

    return poll_all()
