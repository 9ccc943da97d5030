from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from smsportal.credits.models import (
    AccountCredit,
    BalanceSnapshot,
    CreditTransfer,
    TransferIsFinal,
    TransferOutcome,
)
from smsportal.credits.transfers import sweep_stale_transfers
from smsportal.providers.backends.base import (
    AuthenticationError,
    ProtocolError,
    TransferRefused,
    TransferResult,
    TransientError,
)
from smsportal.providers.backends.base import TransferOutcome as Answer
from tests.factories import BalanceSnapshotFactory, CreditTransferFactory, ProviderAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(provider):
    account = ProviderAccountFactory(kind="isms", name="ISMS main")
    BalanceSnapshotFactory(account=account, amount=Decimal("100"))
    return account


def new_transfer(account, amount="30", **kwargs) -> CreditTransfer:
    return CreditTransferFactory(account=account, amount=Decimal(amount), **kwargs)


def test_a_done_transfer_records_the_answer_and_a_fresh_balance(account, provider, manager):
    transfer = new_transfer(account, customer="reseller1")

    transfer.execute(manager)

    assert transfer.outcome == TransferOutcome.DONE
    assert (transfer.provider_code, transfer.executed_by, transfer.attempts) == ("1707", manager, 1)
    assert transfer.balance_before == Decimal("100")
    assert transfer.executed_at is not None
    assert provider.transfers == [("reseller1", Decimal("30"), transfer.reference)]
    latest = BalanceSnapshot.objects.filter(account=account).first()
    assert latest.amount == Decimal("70") and latest.source == "transfer"
    assert AccountCredit.objects.get(account=account).reserved == 0


def test_the_reference_is_the_rows_own_id_and_fits_a_seqno(account):
    transfer = new_transfer(account)
    assert transfer.reference == f"T{transfer.pk}"
    assert len(transfer.reference) <= 20


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (TransferRefused("Invalid account for transfer.", code="1708"), "1708"),
        (TransferRefused("Invalid credit value.", code="1709"), "1709"),
        (AuthenticationError("Wrong username or password.", code="1702"), "1702"),
    ],
)
def test_a_refusal_is_refused_with_the_providers_reason(account, provider, manager, error, code):
    provider.transfer_error = error
    transfer = new_transfer(account)

    transfer.execute(manager)

    assert transfer.outcome == TransferOutcome.REFUSED
    assert transfer.provider_code == code
    assert transfer.provider_text == str(error)
    assert AccountCredit.objects.get(account=account).reserved == 0
    # A refusal moved nothing: the expected balance is not lowered.
    assert BalanceSnapshot.objects.filter(account=account).first().amount == Decimal("100")


def test_a_refused_answer_object_is_refused(account, provider, manager):
    provider.transfer_result = TransferResult(Answer.REFUSED, "1708", "Invalid account.", "1708")
    assert new_transfer(account).execute(manager).outcome == TransferOutcome.REFUSED


def test_a_duplicate_seqno_is_unknown_never_done(account, provider, manager):
    transfer = new_transfer(account)
    provider.seen_seqnos.add(transfer.reference)

    transfer.execute(manager)

    assert transfer.outcome == TransferOutcome.UNKNOWN
    assert transfer.provider_code == "1718"
    assert "not made twice" in transfer.provider_text


def test_a_garbled_answer_is_unknown(account, provider, manager):
    provider.transfer_error = ProtocolError("ISMS answered an HTML page.", provider_text="<html>")
    transfer = new_transfer(account).execute(manager)
    assert transfer.outcome == TransferOutcome.UNKNOWN
    assert "may or may not" in transfer.provider_text


def test_an_unknown_answer_object_is_unknown(account, provider, manager):
    provider.transfer_result = TransferResult(Answer.UNKNOWN, "", "No idea.", "")
    assert new_transfer(account).execute(manager).outcome == TransferOutcome.UNKNOWN


def test_a_timeout_is_unknown_and_a_retry_does_not_transfer_twice(account, provider, manager):
    provider.lose_answer = TransientError("No answer within 30 seconds.")
    transfer = new_transfer(account)

    transfer.execute(manager)
    assert transfer.outcome == TransferOutcome.UNKNOWN
    assert transfer.can_retry
    # The credits may be gone: the next check must not count them.
    assert BalanceSnapshot.objects.filter(account=account).first().amount == Decimal("70")

    provider.lose_answer = None
    transfer.execute(manager)

    assert len(provider.transfers) == 1
    assert transfer.outcome == TransferOutcome.UNKNOWN  # 1718: the first request arrived
    assert transfer.attempts == 2
    assert provider.calls.count("transfer") == 2


def test_a_retry_after_a_timeout_that_never_arrived_is_done_once(account, provider, manager):
    provider.transfer_error = TransientError("No answer within 30 seconds.")
    transfer = new_transfer(account)
    transfer.execute(manager)
    assert transfer.outcome == TransferOutcome.UNKNOWN
    provider.seen_seqnos.clear()  # the request had not reached the provider after all
    provider.transfer_error = None

    transfer.execute(manager)

    assert transfer.outcome == TransferOutcome.DONE
    assert len(provider.transfers) == 1


def test_a_connection_never_made_leaves_the_transfer_to_try_again(account, provider, manager):
    provider.transfer_error = TransientError("Connection refused.", request_sent=False)
    transfer = new_transfer(account)

    transfer.execute(manager)

    assert transfer.outcome == TransferOutcome.PENDING
    assert "nothing was transferred" in transfer.provider_text
    assert AccountCredit.objects.get(account=account).reserved == 0
    provider.transfer_error = None
    provider.seen_seqnos.clear()
    assert transfer.execute(manager).outcome == TransferOutcome.DONE


def test_an_unknown_outcome_is_not_retried_after_the_seqno_window(account, provider, manager):
    transfer = new_transfer(account)
    CreditTransfer.objects.filter(pk=transfer.pk).update(
        outcome=TransferOutcome.UNKNOWN,
        first_sent_at=timezone.now() - timedelta(hours=23, seconds=1),
    )
    transfer.refresh_from_db()
    assert not transfer.can_retry

    transfer.execute(manager)

    assert "transfer" not in provider.calls
    assert transfer.outcome == TransferOutcome.UNKNOWN


def test_executing_twice_transfers_once(account, provider, manager):
    transfer = new_transfer(account)

    transfer.execute(manager)
    again = CreditTransfer.objects.get(pk=transfer.pk).execute(manager)

    assert again.outcome == TransferOutcome.DONE
    assert provider.calls.count("transfer") == 1


def test_the_portal_refuses_a_transfer_the_balance_cannot_pay(account, provider, manager):
    transfer = new_transfer(account, amount="100.01")

    transfer.execute(manager)

    assert transfer.outcome == TransferOutcome.REFUSED
    assert transfer.provider_code == "portal"
    assert "has 100.00 credits available" in transfer.provider_text
    assert "needs 100.01." in transfer.provider_text
    assert "transfer" not in provider.calls


def test_the_portal_refuses_when_no_balance_is_known(provider, manager):
    transfer = new_transfer(ProviderAccountFactory(kind="isms"))

    transfer.execute(manager)

    assert transfer.outcome == TransferOutcome.REFUSED
    assert "not known" in transfer.provider_text
    assert "transfer" not in provider.calls


def test_a_failed_refresh_after_a_transfer_leaves_the_worked_out_balance(
    account, provider, manager
):
    provider.balance_error = TransientError("No answer.")

    new_transfer(account).execute(manager)

    latest = BalanceSnapshot.objects.filter(account=account).first()
    assert latest.amount == Decimal("70")
    assert "Worked out by the portal" in latest.raw


def test_a_final_transfer_cannot_be_saved_again(account, manager):
    transfer = new_transfer(account).execute(manager)
    transfer.amount = Decimal("1")
    with pytest.raises(TransferIsFinal):
        transfer.save()


def test_the_sweeper_makes_an_abandoned_execution_unknown_and_frees_its_credits(account):
    transfer = new_transfer(account)
    AccountCredit.objects.create(account=account, reserved=Decimal("30"))
    CreditTransfer.objects.filter(pk=transfer.pk).update(
        outcome=TransferOutcome.EXECUTING,
        attempts=1,
        first_sent_at=timezone.now() - timedelta(minutes=11),
        last_attempt_at=timezone.now() - timedelta(minutes=11),
    )

    assert sweep_stale_transfers() == 1

    transfer.refresh_from_db()
    assert transfer.outcome == TransferOutcome.UNKNOWN and transfer.can_retry
    assert AccountCredit.objects.get(account=account).reserved == 0
    assert BalanceSnapshot.objects.filter(account=account).first().amount == Decimal("70")


def test_the_sweeper_leaves_a_recent_execution_alone(account):
    transfer = new_transfer(account)
    CreditTransfer.objects.filter(pk=transfer.pk).update(
        outcome=TransferOutcome.EXECUTING, last_attempt_at=timezone.now()
    )
    assert sweep_stale_transfers() == 0
