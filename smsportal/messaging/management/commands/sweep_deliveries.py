"""After a worker died: deliveries stuck in `sending` become `unknown` (never re-sent), and the
batches it never started are enqueued again. The scheduler runs the same every minute."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand

from smsportal.messaging.dispatch import requeue_repeatable, stalled_batches, sweep_stuck
from smsportal.messaging.tasks import send_batch


class Command(BaseCommand):
    help = "Settle what a dead worker left: 'sending' → 'unknown', lost batches enqueued again."

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            default=settings.SENDING_TIMEOUT_SECONDS,
            help="seconds without progress before a delivery or batch counts as abandoned "
            "(default: SENDING_TIMEOUT_SECONDS)",
        )

    def handle(self, *args, older_than: int, **options):
        timeout = timedelta(seconds=older_than)
        resend = requeue_repeatable(timeout)
        swept = sweep_stuck(timeout)
        batches = sorted({*resend, *stalled_batches(timeout)})
        for message_id, first_id, last_id in batches:
            send_batch.enqueue(message_id, first_id, last_id)
        self.stdout.write(
            f"{swept} deliveries marked unknown; {len(batches)} batches enqueued again."
        )
