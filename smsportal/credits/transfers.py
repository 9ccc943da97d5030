"""Executing a credit transfer exactly once.

1. Claim: one transaction moves the row from `pending` (or a retryable `unknown`) to
   `executing` with a conditional UPDATE; a second click, tab or retry finds nothing to claim
   and only reads the outcome. On a first attempt the same transaction reserves the amount with
   a conditional UPDATE of the account's AccountCredit row that compares it with the latest
   balance, so two transfers cannot both spend credits only one of them has.
2. Call the provider outside any transaction, with the row's own `reference` as ISMS `seqno`.
3. Record the outcome with a conditional UPDATE from `executing`, release the reservation, and
   take a fresh balance.

Every provider answer and error maps to done, refused (with the reason) or unknown; nothing
that is not a confirmation ever becomes done.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import DecimalField, F, Q, Subquery, Value
from django.utils import timezone

from smsportal.providers.backends.base import (
    DuplicateRequest,
    ProtocolError,
    ProviderError,
    TransferResult,
    TransientError,
)
from smsportal.providers.backends.base import TransferOutcome as Answer

from .models import (
    RETRY_WINDOW,
    AccountCredit,
    BalanceSnapshot,
    BalanceSource,
    CreditTransfer,
    TransferCustomer,
    TransferOutcome,
)

logger = logging.getLogger(__name__)

# A row still `executing` this long after its attempt began belongs to a process that died
# between the provider call and recording the answer: its outcome is unknown.
STALE_AFTER = timedelta(minutes=10)

PORTAL_CODE = "portal"  # provider_code of a refusal by the portal's own balance check


@dataclass(frozen=True)
class _Outcome:
    outcome: TransferOutcome
    code: str = ""
    text: str = ""
    raw: str = ""


def _latest_amount(account_id: int) -> Subquery:
    return Subquery(
        BalanceSnapshot.objects.filter(account_id=account_id).newest_first().values("amount")[:1],
        output_field=DecimalField(max_digits=14, decimal_places=4),
    )


def _claim(transfer: CreditTransfer, user) -> bool | None:
    """Move the transfer to `executing`. True: claimed, first attempt (amount reserved);
    False: claimed, a retry of an unknown outcome; None: nothing to do (someone else has it,
    its outcome is final, or the balance check refused it)."""
    AccountCredit.objects.get_or_create(account_id=transfer.account_id)
    now = timezone.now()
    retryable = Q(outcome=TransferOutcome.UNKNOWN, first_sent_at__gt=now - RETRY_WINDOW)
    with transaction.atomic():
        first = (
            CreditTransfer.objects.filter(pk=transfer.pk, outcome=TransferOutcome.PENDING).update(
                outcome=TransferOutcome.EXECUTING,
                executed_by=user,
                attempts=F("attempts") + 1,
                first_sent_at=now,
                last_attempt_at=now,
                balance_before=_latest_amount(transfer.account_id),
            )
            == 1
        )
        if not first:
            retry = (
                CreditTransfer.objects.filter(retryable, pk=transfer.pk).update(
                    outcome=TransferOutcome.EXECUTING,
                    executed_by=user,
                    attempts=F("attempts") + 1,
                    last_attempt_at=now,
                )
                == 1
            )
            # A retry reserves nothing: the first attempt's credits were already counted as
            # gone (see _finish), and refusing a retry could hide a transfer that happened.
            return False if retry else None
        # The check and the reservation are one statement: a concurrent transfer on this
        # account waits for the row lock (PostgreSQL) or the write lock (SQLite) and then
        # sees the reserved amount this one added.
        reserved = AccountCredit.objects.filter(
            account_id=transfer.account_id,
            reserved__lte=_latest_amount(transfer.account_id) - Value(transfer.amount),
        ).update(reserved=F("reserved") + transfer.amount)
        if reserved:
            return True
        _refuse_for_balance(transfer, now)
        return None


def _refuse_for_balance(transfer: CreditTransfer, now) -> None:
    credit = AccountCredit.objects.get(account_id=transfer.account_id)
    latest = BalanceSnapshot.objects.latest_of(transfer.account_id)
    if latest is None:
        text = (
            f"Not sent: the balance of {transfer.account} is not known. Refresh it, then make "
            "the transfer again."
        )
    else:
        held = f", {credit.reserved:,.2f} held by transfers in progress" if credit.reserved else ""
        taken = timezone.localtime(latest.taken_at)
        text = (
            f"Not sent: {transfer.account} has {latest.amount - credit.reserved:,.2f} credits "
            f"available (balance {latest.amount:,.2f} as of {taken:%Y-%m-%d %H:%M %Z}"
            f"{held}); this transfer needs {transfer.amount:,.2f}."
        )
    CreditTransfer.objects.filter(pk=transfer.pk, outcome=TransferOutcome.EXECUTING).update(
        outcome=TransferOutcome.REFUSED,
        provider_code=PORTAL_CODE,
        provider_text=text,
        executed_at=now,
    )


def _call_provider(transfer: CreditTransfer) -> _Outcome | None:
    """The provider's answer as an outcome; None when the request certainly never left."""
    account = transfer.account
    try:
        result: TransferResult = account.backend.transfer(
            transfer.customer, transfer.amount, transfer.reference
        )
    except TransientError as error:
        if not error.request_sent:
            return None
        return _Outcome(
            TransferOutcome.UNKNOWN,
            error.code,
            f"No answer from {account} ({error}). The transfer may or may not have been made: "
            "check the balance, or retry (the same reference cannot transfer twice).",
            error.provider_text,
        )
    except DuplicateRequest as error:
        # ISMS 1718: an earlier request with this seqno arrived, so this one was not made;
        # the answer does not say whether the earlier one was done.
        return _Outcome(
            TransferOutcome.UNKNOWN,
            error.code,
            f"{account} had already received this transfer ({error}); it was not made twice, "
            "but the provider does not repeat whether the first request was done. Check the "
            "balance or the provider's panel.",
            error.provider_text,
        )
    except ProtocolError as error:
        return _Outcome(
            TransferOutcome.UNKNOWN,
            error.code,
            f"{account} answered something the portal does not understand ({error}); the "
            "transfer may or may not have been made.",
            error.provider_text,
        )
    except ProviderError as error:
        # Every other provider error is a refusal of this request: nothing was transferred.
        return _Outcome(TransferOutcome.REFUSED, error.code, str(error), error.provider_text)
    except Exception:
        logger.exception("Transfer %s failed inside the portal", transfer.pk)
        return _Outcome(
            TransferOutcome.UNKNOWN,
            "",
            "The portal failed while sending this transfer; it may or may not have been made.",
        )
    outcomes = {
        Answer.DONE: TransferOutcome.DONE,
        Answer.REFUSED: TransferOutcome.REFUSED,
        Answer.UNKNOWN: TransferOutcome.UNKNOWN,
    }
    return _Outcome(
        outcomes.get(result.outcome, TransferOutcome.UNKNOWN), result.code, result.text, result.raw
    )


def _expected_balance_after(transfer: CreditTransfer) -> None:
    """Store the balance the transfer should leave, until the provider reports the real one:
    the next balance check must not count credits this transfer may have taken."""
    latest = BalanceSnapshot.objects.latest_of(transfer.account_id)
    if latest is not None:
        BalanceSnapshot.objects.create(
            account_id=transfer.account_id,
            amount=latest.amount - transfer.amount,
            source=BalanceSource.TRANSFER,
            raw=f"Worked out by the portal: {latest.amount} less transfer {transfer.reference}.",
        )


def _finish(transfer: CreditTransfer, first: bool, result: _Outcome | None) -> None:
    now = timezone.now()
    with transaction.atomic():
        executing = CreditTransfer.objects.filter(pk=transfer.pk, outcome=TransferOutcome.EXECUTING)
        if result is None:
            # The request never reached the provider: back to where it was, to try again.
            if first:
                executing.update(
                    outcome=TransferOutcome.PENDING,
                    first_sent_at=None,
                    provider_text="Could not reach the provider; nothing was transferred. "
                    "Try again.",
                )
            else:  # a retry that never left changes nothing about the earlier attempt
                executing.update(outcome=TransferOutcome.UNKNOWN)
        else:
            executing.update(
                outcome=result.outcome,
                provider_code=result.code[:32],
                provider_text=result.text,
                provider_raw=result.raw[:2000],
                executed_at=now,
            )
        if result is not None and result.outcome == TransferOutcome.DONE:
            # A customer that received credits is offered on the form next time.
            TransferCustomer.objects.get_or_create(
                account_id=transfer.account_id, username=transfer.customer
            )
        if first:
            AccountCredit.objects.filter(account_id=transfer.account_id).update(
                reserved=F("reserved") - transfer.amount
            )
            if result is not None and result.outcome != TransferOutcome.REFUSED:
                _expected_balance_after(transfer)


def execute_transfer(transfer: CreditTransfer, user) -> CreditTransfer:
    """Execute `transfer` once and return it as it now stands.

    Safe to call any number of times, from any number of requests or processes at once: only
    the one that claims the row calls the provider; the others return the row as they find it.
    """
    first = _claim(transfer, user)
    if first is not None:
        transfer.refresh_from_db()
        result = _call_provider(transfer)
        _finish(transfer, first, result)
        logger.info(
            "Transfer %s from account %s: %s",
            transfer.pk,
            transfer.account_id,
            result.outcome if result else "not sent",
        )
        if result is not None:
            _refresh_after(transfer)
    transfer.refresh_from_db()
    return transfer


def _refresh_after(transfer: CreditTransfer) -> None:
    account = transfer.account
    if not account.backend_class.capabilities.balance:
        return
    try:
        BalanceSnapshot.objects.refresh(account, BalanceSource.TRANSFER)
    except ProviderError as error:
        logger.warning("Balance of account %s after a transfer: %s", account.pk, error)


def sweep_stale_transfers() -> int:
    """Turn transfers left `executing` by a process that died into `unknown` (retryable with
    the same seqno) and release what their first attempt reserved. Returns how many."""
    cutoff = timezone.now() - STALE_AFTER
    swept = 0
    stale = CreditTransfer.objects.filter(
        outcome=TransferOutcome.EXECUTING, last_attempt_at__lt=cutoff
    ).values_list("pk", "account_id", "amount", "attempts")
    for pk, account_id, amount, attempts in stale:
        with transaction.atomic():
            moved = CreditTransfer.objects.filter(
                pk=pk, outcome=TransferOutcome.EXECUTING, last_attempt_at__lt=cutoff
            ).update(
                outcome=TransferOutcome.UNKNOWN,
                provider_text="The portal stopped before recording the provider's answer; "
                "the transfer may or may not have been made.",
                executed_at=timezone.now(),
            )
            if moved and attempts == 1:
                AccountCredit.objects.filter(account_id=account_id).update(
                    reserved=F("reserved") - amount
                )
                transfer = CreditTransfer.objects.get(pk=pk)
                _expected_balance_after(transfer)
            swept += moved
    return swept
