"""Logging filters that keep the default log about what changed.

At INFO a log line should be news: a page that was only read, or a periodic task that ran and
found nothing to do, is not. With LOG_LEVEL=DEBUG these filters let everything through.
"""

from __future__ import annotations

import logging

READ_ONLY_METHODS = ("GET ", "HEAD ", "OPTIONS ")


def _debugging() -> bool:
    return logging.getLogger().getEffectiveLevel() <= logging.DEBUG


class QuietReads(logging.Filter):
    """Drops the development server's lines for successful reads (an htmx poll every second
    would otherwise fill the terminal); form posts, errors and refusals stay."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO or _debugging():
            return True
        request_line = record.args[0] if isinstance(record.args, tuple) and record.args else ""
        return not str(request_line).startswith(READ_ONLY_METHODS)


class QuietRoutineTasks(logging.Filter):
    """Drops the task framework's started/finished lines of the scheduler's periodic tasks
    (settings.PERIODIC_TASKS): those log their own line when they change something. Sends,
    imports and every failure stay."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO or _debugging():
            return True
        from django.conf import settings

        message = record.getMessage()
        return not any(f"path={path} " in message for path, _ in settings.PERIODIC_TASKS)
