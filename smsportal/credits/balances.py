"""Reading and presenting balances of many accounts at once.

Storing one is `BalanceSnapshot.objects.record` (the sending code calls it with KwtSMS's
balance-after); asking the provider is `BalanceSnapshot.objects.refresh(account)`;
`latest_balances` reads the current one of every account in one query.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import OuterRef, Subquery

from smsportal.providers.models import ProviderAccount

from .models import AccountCredit, BalanceSnapshot


def latest_snapshot_query(account_ref) -> Subquery:
    """A subquery for the id of the latest snapshot of `account_ref` (an OuterRef or an id)."""
    return Subquery(
        BalanceSnapshot.objects.filter(account=account_ref).newest_first().values("id")[:1]
    )


def latest_balances(
    accounts: Iterable[ProviderAccount] | None = None,
) -> dict[int, BalanceSnapshot]:
    """The latest snapshot of each account (all accounts, or those given), keyed by account id,
    in one query: a LIMIT 1 index seek per account, however many snapshots there are."""
    account_rows = ProviderAccount.objects.all()
    if accounts is not None:
        account_rows = account_rows.filter(pk__in=[a.pk for a in accounts])
    latest_ids = account_rows.annotate(latest=latest_snapshot_query(OuterRef("pk"))).values(
        "latest"
    )
    return {s.account_id: s for s in BalanceSnapshot.objects.filter(pk__in=latest_ids)}


def reserved_amounts(accounts: Iterable[ProviderAccount] | None = None) -> dict[int, Decimal]:
    """Credits held by transfers in flight, per account id (accounts with none are absent)."""
    rows = AccountCredit.objects.exclude(reserved=0)
    if accounts is not None:
        rows = rows.filter(account__in=[a.pk for a in accounts])
    return dict(rows.values_list("account_id", "reserved"))


@dataclass(frozen=True)
class AccountBalance:
    """What the dashboard panel and the credits page show for one account."""

    account: ProviderAccount
    snapshot: BalanceSnapshot | None
    reserved: Decimal = Decimal("0")
    refresh_error: str = ""  # why the refresh just asked for failed, shown on the card's row

    @property
    def available(self) -> Decimal | None:
        return None if self.snapshot is None else self.snapshot.amount - self.reserved

    @property
    def is_low(self) -> bool:
        threshold = self.account.low_balance_threshold
        return threshold is not None and self.available is not None and self.available < threshold

    @property
    def reports_balance(self) -> bool:
        return self.account.backend_class.capabilities.balance


def account_balances(
    accounts: Iterable[ProviderAccount], errors: dict[int, str] | None = None
) -> list[AccountBalance]:
    """One AccountBalance per account, in the order given (two queries in all); `errors` maps
    an account id to why its refresh failed."""
    accounts = list(accounts)
    latest = latest_balances(accounts)
    reserved = reserved_amounts(accounts)
    errors = errors or {}
    return [
        AccountBalance(a, latest.get(a.pk), reserved.get(a.pk, Decimal("0")), errors.get(a.pk, ""))
        for a in accounts
    ]


def available_balance(account: ProviderAccount) -> AccountBalance:
    """The current balance of one account, less what transfers in flight hold."""
    return account_balances([account])[0]
