"""Queueing a task from inside a transaction, so that it runs only once that is committed."""

from __future__ import annotations

from django.db import transaction
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
from django_tasks_db.backend import DatabaseBackend


def tasks_in_database() -> bool:
    """Whether queued tasks are rows of this database (the database backend), written in the
    caller's transaction: committed with it, or not at all."""
    return isinstance(task_backends[DEFAULT_TASK_BACKEND_ALIAS], DatabaseBackend)


def enqueue_on_commit(task, *args) -> None:
    """Queue `task(*args)` to run once the current transaction is committed (the worker must
    find what it wrote). With the database backend the task's row is written now, in the same
    transaction: one round trip less than queueing after the commit, and nothing can be lost
    between the commit and the queueing. With any other backend (Redis, or the immediate one of
    the tests) it is queued once committed."""
    if tasks_in_database():
        task.enqueue(*args)
    else:
        transaction.on_commit(lambda: task.enqueue(*args), robust=True)
