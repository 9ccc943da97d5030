"""Enqueue the portal's periodic tasks (the sweeper, delivery-report polling, balance refresh).

Django's task framework has no scheduler of its own; this small loop is it. Run exactly one per
installation (`make run` starts it). A task enqueued twice does no harm: every periodic task is
idempotent.
"""

from __future__ import annotations

import logging
import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Enqueue the periodic tasks of settings.PERIODIC_TASKS at their intervals."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="enqueue each task once and exit")

    def handle(self, *args, once: bool, **options):
        schedule = [(import_string(path), seconds) for path, seconds in settings.PERIODIC_TASKS]
        due = [0.0] * len(schedule)
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        while not stopping:
            now = time.monotonic()
            for index, (task, seconds) in enumerate(schedule):
                if now >= due[index]:
                    try:
                        task.enqueue()
                    except Exception:  # the database may be away for a moment: try next time
                        log.exception("could not enqueue %s", task.name)
                    due[index] = now + seconds
            if once:
                return
            time.sleep(1)
