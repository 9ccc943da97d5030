from __future__ import annotations

from decimal import Decimal

import pytest

from smsportal.credits.affordability import Unaffordable, check_affordable
from smsportal.credits.models import AccountCredit
from tests.factories import BalanceSnapshotFactory, ProviderAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(provider):
    account = ProviderAccountFactory(name="Main")
    BalanceSnapshotFactory(account=account, amount=Decimal("10"))
    return account


def test_a_send_within_the_balance_passes(account, operator):
    assert check_affordable(account, Decimal("10"), operator) is None


def test_a_send_past_the_balance_is_refused_with_the_figures(account, operator):
    with pytest.raises(Unaffordable) as caught:
        check_affordable(account, Decimal("12.5"), operator)

    assert caught.value.estimate == Decimal("12.5")
    assert caught.value.available == Decimal("10")
    assert "needs 12.50 credits, but Main has 10.00" in caught.value.message


def test_credits_held_by_a_transfer_are_not_available(account, operator):
    AccountCredit.objects.create(account=account, reserved=Decimal("5"))
    with pytest.raises(Unaffordable, match="held by transfers"):
        check_affordable(account, Decimal("6"), operator)


def test_a_manager_may_send_past_the_balance_where_the_account_allows_credit(account, manager):
    account.allows_credit = True
    assert check_affordable(account, Decimal("50"), manager) is None


def test_a_manager_may_not_where_the_account_does_not_allow_credit(account, manager):
    with pytest.raises(Unaffordable):
        check_affordable(account, Decimal("50"), manager)


def test_an_operator_may_not_even_where_the_account_allows_credit(account, operator):
    account.allows_credit = True
    with pytest.raises(Unaffordable, match="A Manager may send it anyway"):
        check_affordable(account, Decimal("50"), operator)


def test_an_unknown_balance_is_refused_until_refreshed(provider, operator):
    account = ProviderAccountFactory()
    with pytest.raises(Unaffordable, match="not known yet") as caught:
        check_affordable(account, Decimal("1"), operator)
    assert caught.value.available is None


def test_accounts_whose_provider_reports_no_balance_cannot_be_checked(provider, operator):
    provider.set_capabilities(balance=False)
    assert check_affordable(ProviderAccountFactory(), Decimal("1000"), operator) is None
