"""Turn deliveries stuck in `sending` (their worker died) into `unknown` — never re-send them."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand

from smsportal.messaging.dispatch import sweep_stuck


class Command(BaseCommand):
    help = "Mark deliveries left in 'sending' longer than the timeout as 'unknown'."

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            default=settings.SENDING_TIMEOUT_SECONDS,
            help="seconds a delivery may stay 'sending' (default: SENDING_TIMEOUT_SECONDS)",
        )

    def handle(self, *args, older_than: int, **options):
        swept = sweep_stuck(timedelta(seconds=older_than))
        self.stdout.write(f"{swept} deliveries marked unknown.")
