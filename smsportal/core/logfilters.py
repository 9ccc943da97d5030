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


class OneLineRefusals(logging.Filter):
    """Turns Django's log record of a refused request (a 4xx on `django.request`) into one line
    saying who was refused: "Forbidden (Permission denied): /accounts/ (403, user operator)".

    Django logs a PermissionDenied, a BadRequest and an unreadable upload with the exception
    attached (`log_response(..., exception=exc)`), so every Operator who opens a Manager's page
    printed a traceback of the decorator that said no: noise that hid real errors, and the one
    useful fact, who it was, was missing. A 5xx keeps its traceback. With LOG_LEVEL=DEBUG the
    traceback stays too (where a refusal came from, while developing). Never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if not isinstance(status, int) or not 400 <= status < 500:
            return True
        record.msg = (
            f"{record.getMessage()} ({status}, user {who(getattr(record, 'request', None))})"
        )
        record.args = ()
        if not _debugging():
            record.exc_info, record.exc_text = None, None
        return True


def who(request) -> str:
    """The user a log line names: their username, or "anonymous" (also for a request refused
    before the user was read). A log filter must never raise: if reading the user fails (the
    database is gone), the line says "unknown" rather than losing the refusal."""
    try:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return "anonymous"
        return user.get_username()
    except Exception:
        return "unknown"
