"""Whether a send fits the balance: the compose page's check before anything is queued."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from smsportal.core.text import time_since
from smsportal.providers.models import ProviderAccount

from .balances import available_balance

OVERRIDE_PERMISSION = "credits.send_beyond_balance"


class Unaffordable(ValidationError):
    """A send the balance cannot pay for. A ValidationError, so a form's clean() can raise it;
    `estimate` and `available` (None when no balance is known) carry the figures, and `values`
    all of them as plain values, from which `unaffordable_text` writes the message again (in a
    later reader's language)."""

    def __init__(
        self, message: str, *, estimate: Decimal, available: Decimal | None, values: dict
    ) -> None:
        super().__init__(message, code="unaffordable")
        self.estimate = estimate
        self.available = available
        self.values = values


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
    values = {"estimate": f"{estimate:.2f}", "account": str(account)}
    if current.snapshot is not None:
        values |= {
            "available": f"{current.available:.2f}",
            "balance": f"{current.snapshot.amount:.2f}",
            # The balance's age when refused, kept as its two moments (a later reader's
            # "3 minutes ago" is the same three minutes).
            "taken_at": current.snapshot.taken_at.isoformat(),
            "refused_at": timezone.now().isoformat(),
            "held": f"{current.reserved:.2f}" if current.reserved else "",
            "overridable": account.allows_credit,
        }
    raise Unaffordable(
        unaffordable_text(values), estimate=estimate, available=current.available, values=values
    )


def unaffordable_text(values: Mapping, name: Callable[[str], str] = str) -> str:
    """Why the balance cannot pay for a send, in the active language, from its `values`
    (`name` writes the account's name: a page isolates it)."""
    figures = {**values, "account": name(values["account"])}
    if "balance" not in values:
        return (
            _(
                "This send needs %(estimate)s credits, but the balance of %(account)s is not "
                "known yet. Refresh the balance first."
            )
            % figures
        )
    figures["age"] = time_since(
        datetime.fromisoformat(values["taken_at"]), now=datetime.fromisoformat(values["refused_at"])
    )
    if values.get("held"):
        text = _(
            "This send needs %(estimate)s credits, but %(account)s has %(available)s (balance "
            "%(balance)s as of %(age)s ago, of which %(held)s is held by transfers)."
        )
    else:
        text = _(
            "This send needs %(estimate)s credits, but %(account)s has %(available)s (balance "
            "%(balance)s as of %(age)s ago)."
        )
    if values.get("overridable"):
        text += " " + _("A Manager may send it anyway.")
    return text % figures
