"""The task worker (django-tasks' `db_worker`), kept running when the database goes away.

`db_worker` exits on any database error but a lock. Here it is started again after a pause that
doubles up to `--max-backoff`, so a database restart needs no one to restart the workers: the
task that was running when it went away leaves its deliveries `sending`, and the sweeper settles
them as `unknown` (never sent twice) and enqueues the batches that never started.
"""

from __future__ import annotations

import logging
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import InterfaceError, OperationalError, connections

log = logging.getLogger("smsportal.worker")

STEADY = 60.0  # seconds of work after which a failure starts the back-off afresh


class Command(BaseCommand):
    help = "Run background tasks (database backend), surviving database outages."

    def add_arguments(self, parser):
        parser.add_argument("--queue-name", default="default")
        parser.add_argument("--interval", type=float, default=1.0)
        parser.add_argument("--max-backoff", type=float, default=30.0)

    def handle(self, *args, queue_name: str, interval: float, max_backoff: float, **options):
        backoff = 1.0
        while True:
            started = time.monotonic()
            try:
                call_command(
                    "db_worker",
                    queue_name=queue_name,
                    interval=interval,
                    reload=False,
                    startup_delay=False,
                )
                return  # stopped by a signal: done
            except (OperationalError, InterfaceError) as exc:
                if time.monotonic() - started > STEADY:
                    backoff = 1.0
                log.warning(
                    "database unavailable (%s); the worker starts again in %.0f s",
                    str(exc).strip().splitlines()[0] if str(exc) else type(exc).__name__,
                    backoff,
                )
                connections.close_all()
                time.sleep(backoff)
                backoff = min(backoff * 2, max_backoff)
