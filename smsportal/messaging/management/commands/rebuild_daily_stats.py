"""Recompute the daily delivery summary from the deliveries themselves."""

from django.core.management.base import BaseCommand

from smsportal.messaging.daily_stats import rebuild


class Command(BaseCommand):
    help = "Recompute DailyDeliveryStats from the deliveries (slow on big tables)."

    def handle(self, *args, **options):
        self.stdout.write(f"{rebuild()} summary rows written.")
