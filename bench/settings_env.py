"""The environment every benchmark gives the portal's processes: production-like settings (DEBUG
off, so no auto-reload and no debug bookkeeping) on the database under test."""

from __future__ import annotations

import os

# A fixed, throwaway Fernet key: benchmark databases are temporary and hold no real secret.
BENCH_FIELD_KEY = "kJ3y4kQ3m4M9oYg1sQmJ3eX1n8lq1Xl1x1bq8tq0WcM="


def django_env(database_url: str, **extra: str) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "smsportal.settings",
        "DATABASE_URL": database_url,
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + "x" * 50,
        "FIELD_ENCRYPTION_KEY": BENCH_FIELD_KEY,
        "ALLOWED_HOSTS": "testserver,127.0.0.1",
        "TASKS_BACKEND": "database",
        "LOG_LEVEL": "WARNING",
        **extra,
    }
