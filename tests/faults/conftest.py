"""Real worker processes against the test database file, for the fault suite."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def wait_for(condition, timeout: float = 60.0, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(every)
    raise AssertionError(f"not reached within {timeout} s")


def worker_env(**extra) -> dict:
    """The worker sees the test's database and keys; DEBUG off so it does not auto-reload."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        url = f"sqlite:///{db['NAME']}"
    else:
        credentials = f"{db['USER']}:{db.get('PASSWORD', '')}"
        url = f"postgres://{credentials}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "false",
        "SECRET_KEY": settings.SECRET_KEY,
        "FIELD_ENCRYPTION_KEY": ",".join(settings.FIELD_ENCRYPTION_KEYS),
        "TASKS_BACKEND": "database",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def kill(worker: subprocess.Popen) -> None:
    """SIGKILL a worker and wait until the database has seen the last of it.

    On PostgreSQL the worker's server process outlives it for a moment: a COMMIT the worker sent
    just before it died still lands after `wait()` returns. Counting rows before that would
    count a state that is about to change, so wait until none of *its* sessions is left. Only
    its own, found by the application name it connected with: a session some earlier test's
    thread left open in this process is not the worker's, and would never go away."""
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    if connection.vendor == "postgresql":

        def sessions() -> int:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND application_name = %s",
                    [worker.application_name],
                )
                return cursor.fetchone()[0]

        wait_for(lambda: sessions() == 0, timeout=30)


@pytest.fixture
def database_tasks(settings):
    """Tasks go to the database queue, where real worker processes take them."""
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }


@pytest.fixture
def workers(database_tasks):
    """start() a `db_worker` process; every one is killed at the end of the test."""
    started: list[subprocess.Popen] = []

    def start(**env) -> subprocess.Popen:
        connection.close()  # the worker opens its own; SQLite needs our writes committed
        # libpq names the worker's PostgreSQL sessions after this, so kill() can tell them apart.
        application_name = f"fault-worker-{os.getpid()}-{len(started)}"
        proc = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "db_worker",
                "--queue-name",
                "default",
                "--interval",
                "0.1",
                "--no-startup-delay",
            ],
            cwd=ROOT,
            env=worker_env(PGAPPNAME=application_name, **env),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        proc.application_name = application_name
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
    if connection.vendor == "postgresql":
        # A killed worker's server process may outlive it for a moment; the test database can
        # only be dropped once it is gone.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
