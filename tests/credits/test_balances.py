from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from smsportal.credits.balances import account_balances, latest_balances
from smsportal.credits.models import AccountCredit, BalanceSnapshot, BalanceSource
from smsportal.credits.tasks import refresh_all_balances
from smsportal.providers.backends.base import Balance, TransientError, UnsupportedOperation
from tests.factories import BalanceSnapshotFactory, ProviderAccountFactory

pytestmark = pytest.mark.django_db


def test_refresh_balance_stores_what_the_provider_reports(provider):
    account = ProviderAccountFactory(kind="kwtsms")
    provider.balance, provider.purchased = Decimal("181"), Decimal("377")

    snapshot = BalanceSnapshot.objects.refresh(account)

    assert (snapshot.amount, snapshot.purchased, snapshot.source) == (
        Decimal("181"),
        Decimal("377"),
        BalanceSource.REFRESH,
    )
    assert BalanceSnapshot.objects.get() == snapshot


def test_a_failed_refresh_stores_nothing(provider):
    account = ProviderAccountFactory()
    provider.balance_error = TransientError("No answer in 10 seconds.")

    with pytest.raises(TransientError):
        BalanceSnapshot.objects.refresh(account)
    assert not BalanceSnapshot.objects.exists()


def test_record_balance_keeps_a_send_reported_balance():
    account = ProviderAccountFactory()

    BalanceSnapshot.objects.record(
        account, Balance(Decimal("180"), raw="OK:...:180:..."), BalanceSource.SEND
    )

    snapshot = BalanceSnapshot.objects.get()
    assert snapshot.amount == Decimal("180") and snapshot.source == "send"


def test_latest_balances_reads_every_account_in_one_query():
    accounts = [ProviderAccountFactory() for _ in range(4)]
    now = timezone.now()
    for n, account in enumerate(accounts[:3]):
        for hours in range(5):
            BalanceSnapshotFactory(
                account=account, amount=100 * n + hours, taken_at=now - timedelta(hours=hours)
            )

    with CaptureQueriesContext(connection) as queries:
        latest = latest_balances()

    assert len(queries) == 1
    assert {a: s.amount for a, s in latest.items()} == {
        accounts[0].pk: 0,
        accounts[1].pk: 100,
        accounts[2].pk: 200,
    }


def test_two_snapshots_at_the_same_instant_resolve_to_the_later_row():
    account = ProviderAccountFactory()
    now = timezone.now()
    BalanceSnapshotFactory(account=account, amount=1, taken_at=now)
    last = BalanceSnapshotFactory(account=account, amount=2, taken_at=now)
    assert latest_balances()[account.pk] == last


def test_a_balance_below_the_threshold_is_low_and_reserved_credits_count():
    account = ProviderAccountFactory(low_balance_threshold=Decimal("50"))
    BalanceSnapshotFactory(account=account, amount=Decimal("60"))
    AccountCredit.objects.create(account=account, reserved=Decimal("20"))

    (row,) = account_balances([account])

    assert row.available == Decimal("40")
    assert row.is_low


def test_an_account_without_threshold_or_snapshot_is_never_low():
    (row,) = account_balances([ProviderAccountFactory()])
    assert row.available is None and not row.is_low


def test_the_task_refreshes_every_active_account_that_reports_a_balance(provider):
    ProviderAccountFactory(name="A")
    ProviderAccountFactory(name="Off", is_active=False)

    result = refresh_all_balances.enqueue()

    assert result.return_value["refreshed"] == {"A": "100"}
    assert BalanceSnapshot.objects.filter(account__name="A").count() == 1
    assert not BalanceSnapshot.objects.filter(account__name="Off").exists()


def test_the_task_skips_providers_without_balances(provider):
    provider.set_capabilities(balance=False)
    ProviderAccountFactory()
    assert refresh_all_balances.enqueue().return_value["refreshed"] == {}
    assert "balance" not in provider.calls


def test_the_command_prints_each_balance_and_fails_loudly_on_errors(provider, capsys):
    ProviderAccountFactory(name="Main")
    call_command("refresh_balances")
    assert "Main: 100" in capsys.readouterr().out

    provider.balance_error = UnsupportedOperation("Balance enquiry is not supported.")
    with pytest.raises(CommandError, match="1 account"):
        call_command("refresh_balances")
    assert "Main: not refreshed: Balance enquiry is not supported." in capsys.readouterr().err


def test_the_command_can_hand_the_work_to_the_worker(provider, capsys):
    ProviderAccountFactory()
    call_command("refresh_balances", "--enqueue")
    assert "Enqueued balance refresh" in capsys.readouterr().out
    assert BalanceSnapshot.objects.count() == 1  # the immediate backend ran it
