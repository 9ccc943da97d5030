"""Start-up refuses a wrong environment with one line naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FERNET_KEY = "kJ3y4kQ3m4M9oYg1sQmJ3eX1n8lq1Xl1x1bq8tq0WcM="


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DEBUG",
            "SECRET_KEY",
            "DATABASE_URL",
            "FIELD_ENCRYPTION_KEY",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        }
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off():
    result = manage("check", DEBUG="false", FIELD_ENCRYPTION_KEY=FERNET_KEY)

    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "Configuration error: SECRET_KEY is not set; it is required when DEBUG is off."
    ]


def test_it_names_a_malformed_database_url():
    result = manage("check", DEBUG="true", DATABASE_URL="nonsense://what")

    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Configuration error: DATABASE_URL is not a valid database URL")


def test_it_names_an_unknown_tasks_backend():
    result = manage("check", DEBUG="true", TASKS_BACKEND="celery")

    assert result.returncode != 0
    assert "TASKS_BACKEND must be one of database, rq, immediate" in result.stderr


def test_check_deploy_is_clean_with_production_settings():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY="x" * 20 + "a-long-and-random-production-secret-key-0123456789",
        FIELD_ENCRYPTION_KEY=FERNET_KEY,
        ALLOWED_HOSTS="sms.example.com",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
