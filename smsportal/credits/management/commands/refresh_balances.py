"""`manage.py refresh_balances`: take a fresh balance of every account now, from a shell.

Balances are refreshed by the scheduler every 15 minutes (settings.PERIODIC_TASKS); this is for a
refresh on demand, for scripts that want the exit status, and for cron, the alternative where no
scheduler runs (every 15 minutes)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from smsportal.credits.tasks import refresh_all_balances, refresh_balances_now


class Command(BaseCommand):
    help = (
        "Ask every active provider account that reports a balance for it, and store it, now. "
        "(The scheduler does this every 15 minutes by itself.)"
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Hand the work to the task worker instead of doing it here.",
        )

    def handle(self, *args, enqueue: bool = False, **options) -> None:
        if enqueue:
            result = refresh_all_balances.enqueue()
            self.stdout.write(f"Enqueued balance refresh {result.id}.")
            return
        summary = refresh_balances_now()
        for name, amount in summary["refreshed"].items():
            self.stdout.write(f"{name}: {amount}")
        for name, error in summary["failed"].items():
            self.stderr.write(f"{name}: not refreshed: {error}")
        if summary["swept_transfers"]:
            self.stdout.write(
                f"{summary['swept_transfers']} interrupted transfer(s) marked unknown."
            )
        if not summary["refreshed"] and not summary["failed"]:
            self.stdout.write("No active account reports a balance.")
        if summary["failed"]:
            raise CommandError(f"{len(summary['failed'])} account(s) could not be refreshed.")
