"""`run_recurring_sends`: one of the scheduler's periodic tasks (settings.PERIODIC_TASKS, every
minute), run by the task worker."""

from __future__ import annotations

from django_tasks import task

from .sending import run_due


@task()
def run_recurring_sends() -> int:
    return run_due()
