"""Ask providers that do not push reports (KalaSMS) about open deliveries, once."""

from django.core.management.base import BaseCommand

from smsportal.messaging.delivery_reports.polling import poll_all


class Command(BaseCommand):
    help = "Poll delivery reports for open deliveries of providers that offer polling."

    def handle(self, *args, **options):
        self.stdout.write(f"{poll_all()} deliveries changed.")
