"""Keep a transceiver bound to SMS Centre for every active account, for receipts and incoming
SMS (`make run` starts it; in production run one per deployment, under a process supervisor)."""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand

from smsportal.messaging.delivery_reports.smpp_listener import MAX_BACKOFF, Supervisor


class Command(BaseCommand):
    help = "Receive SMS Centre delivery receipts and incoming SMS over SMPP, re-binding on loss."

    def add_arguments(self, parser):
        parser.add_argument(
            "--rescan",
            type=float,
            default=30.0,
            help="Seconds between looks for SMS Centre accounts added or deactivated.",
        )
        parser.add_argument(
            "--max-backoff",
            type=float,
            default=MAX_BACKOFF,
            help="Longest wait, in seconds, between attempts to bind again.",
        )

    def handle(self, *args, rescan: float, max_backoff: float, **options):
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        supervisor = Supervisor(stop, max_backoff=max_backoff)
        self.stdout.write("SMPP listener running; Ctrl-C stops it")
        supervisor.run(every=rescan)
