"""Forwarding's background work: each endpoint's deliveries in its own task (a slow endpoint
holds up only its own), and a periodic sweep that queues retries and reads new delivery status
changes."""

from __future__ import annotations

from django_tasks import task


@task()
def deliver_pending(endpoint_id: int) -> str:
    """Deliver the endpoint's due events (a batch at a time); queue a follow-up if some are
    left when its time is up."""
    from .delivery import deliver_due

    delivered, failed, more = deliver_due(endpoint_id)
    if more:
        deliver_pending.enqueue(endpoint_id)
    return f"{delivered} delivered, {failed} failed" + (", more queued" if more else "")


@task()
def deliver_event(event_id: int) -> str:
    """One event (kept for tasks queued before deliveries were per endpoint)."""
    from .delivery import deliver

    return deliver(event_id)


@task()
def forward_due() -> int:
    """Queue the status changes since the last run, and wake every endpoint with events due for
    a (re)try; the number of endpoints woken."""
    from .delivery import due_endpoints
    from .events import forward_status_changes

    forward_status_changes()
    due = due_endpoints()
    for endpoint_id in due:
        deliver_pending.enqueue(endpoint_id)
    return len(due)
