"""Whether a send fits the balance: the compose page's check before anything is queued."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from smsportal.core.text import time_since
from smsportal.providers.models import ProviderAccount

from .balances import available_balance

OVERRIDE_PERMISSION = "credits.send_beyond_balance"


class Unaffordable(ValidationError):
    """A send the balance cannot pay for. A ValidationError, so a form's clean() can raise it;
    `estimate` and `available` (None when no balance is known) carry the figures."""

    def __init__(self, message: str, *, estimate: Decimal, available: Decimal | None) -> None:
        super().__init__(message, code="unaffordable")
        self.estimate = estimate
        self.available = available


def _may_override(account: ProviderAccount, user) -> bool:
    return account.allows_credit and user.has_perm(OVERRIDE_PERMISSION)


def check_affordable(account: ProviderAccount, estimate: Decimal, user) -> None:
    """Return if `account` can pay `estimate` credits; else raise Unaffordable with the figures.

    Compared with the last known balance less what transfers in flight hold. Accounts whose
    provider reports no balance cannot be checked and pass. A user with
    `credits.send_beyond_balance` (Managers) passes anyway where the account allows credit.
    """
    estimate = Decimal(estimate)
    if estimate <= 0 or not account.backend_class.capabilities.balance:
        return
    current = available_balance(account)
    if current.available is not None and estimate <= current.available:
        return
    if _may_override(account, user):
        return
    if current.snapshot is None:
        raise Unaffordable(
            _(
                "This send needs %(estimate)s credits, but the balance of %(account)s is not "
                "known yet. Refresh the balance first."
            )
            % {"estimate": f"{estimate:.2f}", "account": account},
            estimate=estimate,
            available=None,
        )
    age = time_since(current.snapshot.taken_at)
    figures = {
        "estimate": f"{estimate:.2f}",
        "account": account,
        "available": f"{current.available:.2f}",
        "balance": f"{current.snapshot.amount:.2f}",
        "age": age,
        "held": f"{current.reserved:.2f}",
    }
    if current.reserved:
        text = _(
            "This send needs %(estimate)s credits, but %(account)s has %(available)s (balance "
            "%(balance)s as of %(age)s ago, of which %(held)s is held by transfers)."
        )
    else:
        text = _(
            "This send needs %(estimate)s credits, but %(account)s has %(available)s (balance "
            "%(balance)s as of %(age)s ago)."
        )
    if account.allows_credit:
        text += " " + _("A Manager may send it anyway.")
    raise Unaffordable(
        text % figures,
        estimate=estimate,
        available=current.available,
    )
