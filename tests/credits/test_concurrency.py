"""Transfers racing each other in threads, each with its own database connection: on SQLite
and on PostgreSQL (CI runs the suite on both)."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection

from smsportal.credits.models import AccountCredit, CreditTransfer, TransferOutcome
from tests.factories import BalanceSnapshotFactory, CreditTransferFactory, ProviderAccountFactory

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(functions) -> list:
    """Start every function at once (a barrier), wait for all, re-raise the first error."""
    barrier = threading.Barrier(len(functions))
    results: list = [None] * len(functions)
    errors: list[BaseException] = []

    def worker(index, function):
        try:
            barrier.wait()
            results[index] = function()
        except BaseException as error:  # re-raised in the test thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise errors[0]
    return results


@pytest.fixture
def account(provider):
    account = ProviderAccountFactory(kind="isms")
    BalanceSnapshotFactory(account=account, amount=Decimal("100"))
    provider.transfer_delay = 0.3  # both requests are in flight at the same time
    provider.balance_error = None
    return account


def test_two_transfers_only_one_can_afford_make_exactly_one(account, provider, manager):
    first = CreditTransferFactory(account=account, amount=Decimal("70"))
    second = CreditTransferFactory(account=account, amount=Decimal("70"))

    def execute(pk):
        return lambda: CreditTransfer.objects.get(pk=pk).execute(manager).outcome

    outcomes = run_together([execute(first.pk), execute(second.pk)])

    assert sorted(outcomes) == [TransferOutcome.DONE, TransferOutcome.REFUSED]
    assert len(provider.transfers) == 1
    refused = CreditTransfer.objects.get(outcome=TransferOutcome.REFUSED)
    assert refused.provider_code == "portal"
    assert AccountCredit.objects.get(account=account).reserved == 0


def test_two_transfers_both_can_afford_both_go(account, provider, manager):
    transfers = [CreditTransferFactory(account=account, amount=Decimal("40")) for _ in range(2)]

    outcomes = run_together(
        [
            lambda pk=t.pk: CreditTransfer.objects.get(pk=pk).execute(manager).outcome
            for t in transfers
        ]
    )

    assert outcomes == [TransferOutcome.DONE, TransferOutcome.DONE]
    assert len(provider.transfers) == 2


def test_one_transfer_confirmed_from_four_tabs_at_once_is_made_once(account, provider, manager):
    transfer = CreditTransferFactory(account=account, amount=Decimal("10"))

    outcomes = run_together(
        [lambda: CreditTransfer.objects.get(pk=transfer.pk).execute(manager).outcome] * 4
    )

    assert provider.calls.count("transfer") == 1
    assert len(provider.transfers) == 1
    # The one that claimed it sees the outcome; the others see it in progress or done.
    assert TransferOutcome.DONE in outcomes
    assert set(outcomes) <= {TransferOutcome.DONE, TransferOutcome.EXECUTING}
