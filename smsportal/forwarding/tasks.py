"""Forwarding's background work: each delivery in its own task (a slow endpoint holds up only
its own), and a periodic sweep that queues retries and reads new delivery status changes."""

from __future__ import annotations

from django_tasks import task


@task()
def deliver_event(event_id: int) -> str:
    from .delivery import deliver

    return deliver(event_id)


@task()
def forward_due() -> int:
    """Queue the status changes since the last run, and every event due for a (re)try."""
    from .delivery import due_events
    from .events import forward_status_changes

    forward_status_changes()
    due = due_events()
    for pk in due:
        deliver_event.enqueue(pk)
    return len(due)
