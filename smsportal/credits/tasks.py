"""Background work for balances.

Balances are refreshed by the scheduler: `refresh_all_balances` is one of its periodic tasks
(settings.PERIODIC_TASKS, every 15 minutes; `manage.py scheduler`), run by the task worker.
Cron is the alternative where no scheduler runs: `manage.py refresh_balances` every 15 minutes
(it runs the same refresh once, from a shell; docs/credits.md)."""

from __future__ import annotations

import logging

from django_tasks import task

from smsportal.providers.backends.base import ProviderError
from smsportal.providers.models import ProviderAccount

from .models import BalanceSnapshot
from .transfers import sweep_stale_transfers

logger = logging.getLogger(__name__)


def refresh_balances_now() -> dict[str, object]:
    """Refresh the balance of every active account whose provider reports one.

    One account's failure does not stop the others. Returns a JSON-serialisable summary:
    {"refreshed": {name: amount}, "failed": {name: error}, "swept_transfers": n}.
    """
    refreshed: dict[str, str] = {}
    failed: dict[str, str] = {}
    for account in ProviderAccount.objects.filter(is_active=True):
        if not account.backend_class.capabilities.balance:
            continue
        try:
            snapshot = BalanceSnapshot.objects.refresh(account)
        except ProviderError as error:
            logger.warning("Balance of account %s not refreshed: %s", account.pk, error)
            failed[account.name] = str(error)
        else:
            refreshed[account.name] = str(snapshot.amount)
    return {
        "refreshed": refreshed,
        "failed": failed,
        "swept_transfers": sweep_stale_transfers(),
    }


@task()
def refresh_all_balances() -> dict[str, object]:
    """The worker's form of `refresh_balances_now`."""
    return refresh_balances_now()
