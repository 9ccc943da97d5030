"""The quota check of the send path, race-free.

    quotas.check(department, account, parts=300, credit=Decimal("9.00"))        # prepare: read only
    quotas.reserve(department, account, parts=300, credit=..., message_id=42)  # send: takes it
    quotas.release(42, parts=20, credit=...)  # cancelled, or failed before leaving: given back

`reserve` runs inside the transaction that creates the message. For every quota that applies (the
department's quota on that account and its quota over all accounts) and every period with a limit,
one conditional UPDATE raises the counter only where the send still fits:

    UPDATE quotas_usage SET parts = parts + n, credit = credit + c
     WHERE id = … AND parts <= limit - n AND credit <= credit_limit - c

Two sends at once cannot both pass on the last parts: PostgreSQL re-checks the WHERE against the
row the first committed before the second's UPDATE goes ahead, and SQLite runs one writing
transaction at a time (IMMEDIATE). If any counter refuses, the savepoint undoes the others and
QuotaExceeded says what is left. A department with no quota is unlimited; a limit of 0 refuses
every send.

Usage is counted in the day and month (local time) in which the send is accepted, a scheduled send
too. `Hold` rows name the message, so `release` gives back exactly what it took, from the periods
it took it from, even if the quota has been changed since.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from . import alerts
from .models import Hold, Quota, Usage

ZERO = Decimal("0")
CREDIT_STEP = Decimal("0.0001")  # Usage.credit's decimal places


class QuotaExceeded(Exception):
    """The send would go past a quota: the message says which, and how much is left; `values`
    are its figures, from which `over_text` writes it again (in a later reader's language)."""

    code = "over_quota"

    def __init__(self, message: str, *, values: dict) -> None:
        super().__init__(message)
        self.values = values


def applicable(department, account) -> QuerySet[Quota]:
    """The quotas a send by `department` through `account` must fit: the one on that account and
    the one over all accounts (either may be missing)."""
    return (
        Quota.objects.filter(department=department)
        .filter(Q(account=account) | Q(account__isnull=True))
        .select_related("department", "account")
        .order_by("pk")  # one order for every send: no deadlock between two of them
    )


def period_starts(now: datetime | None = None) -> dict[str, date]:
    today = timezone.localdate(now)
    return {Usage.Period.DAY: today, Usage.Period.MONTH: today.replace(day=1)}


@dataclass(frozen=True)
class Room:
    """What is left of one limit."""

    metric: str  # "parts" or "credit"
    limit: int | Decimal
    used: int | Decimal

    @property
    def left(self) -> int | Decimal:
        return max(self.limit - self.used, 0)


def check(department, account, *, parts: int, credit: Decimal, now=None) -> None:
    """Raise QuotaExceeded if the send would not fit now (reads only; `reserve` decides)."""
    if department is None:
        return
    starts = period_starts(now)
    for quota in applicable(department, account):
        for period in quota.periods:
            usage = Usage.objects.filter(
                quota=quota, period=period, starts=starts[period]
            ).first() or Usage(quota=quota, period=period, starts=starts[period])
            _refuse_if_over(quota, period, usage, parts, credit)


def reserve(
    department,
    account,
    *,
    parts: int,
    credit: Decimal,
    message_id: int,
    now=None,
    force: bool = False,
) -> int:
    """Take `parts` and `credit` from every quota that applies, all or none; returns how many
    counters were raised. Raises QuotaExceeded (nothing taken) when one has no room, unless
    `force` (what already left is counted whatever the room)."""
    if department is None or (parts <= 0 and credit <= 0):
        return 0
    found = list(applicable(department, account))
    if not found:  # the common case: no savepoint to open and release for nothing
        return 0
    starts = period_starts(now)
    raised: list[Usage] = []
    with transaction.atomic():
        for quota in found:
            for period in quota.periods:
                usage, _created = Usage.objects.get_or_create(
                    quota=quota, period=period, starts=starts[period]
                )
                limits = quota.limits(period)
                room = Q(pk=usage.pk)
                if "parts" in limits and not force:
                    room &= Q(parts__lte=limits["parts"] - parts)
                if "credit" in limits and not force:
                    room &= Q(credit__lte=limits["credit"] - credit)
                taken = Usage.objects.filter(room).update(
                    parts=F("parts") + parts, credit=F("credit") + credit
                )
                if not taken:
                    raise _refusal(quota, period, usage, parts, credit)
                Hold.objects.create(usage=usage, message_id=message_id, parts=parts, credit=credit)
                raised.append(usage)
        alerts.warn_if_crossed([usage.pk for usage in raised])
    return len(raised)


def holds(message_id: int) -> bool:
    """Whether `message_id` counts against any quota."""
    return Hold.objects.filter(message_id=message_id).exists()


def release(message_id: int, *, parts: int | None = None, account_id: int | None = None) -> int:
    """Give back what `message_id` holds: all of it, or `parts` of it (deliveries cancelled, or
    failed before they left) with their share of the credit it holds (parts to different
    destinations may cost differently; the share is what was reserved for them on average).
    Returns the parts given back per counter.

    `account_id`: the parts were to go through that account, so only its quota and the quota
    over all accounts give them back. A delivery that failed over (messaging.failover) was
    reserved again on its next account: when it fails there too, the first account's quota
    must not give its parts back a second time. The quota over all accounts then holds the
    message twice; `parts` is given back at most once per counter (quota and period)."""
    given = 0
    with transaction.atomic():
        # Only the holds are locked (`of`): the joins below must not lock quotas or counters.
        holds = Hold.objects.select_for_update(of=("self",)).filter(message_id=message_id)
        if account_id is not None:
            holds = holds.filter(
                Q(usage__quota__account_id=account_id) | Q(usage__quota__account__isnull=True)
            )
        holds = list(holds.select_related("usage").order_by("usage_id", "id"))
        left: dict[tuple[int, str], int] = {}  # parts still to give back, per counter
        for hold in holds:
            counter = (hold.usage.quota_id, hold.usage.period)
            if parts is None:
                back_parts = hold.parts
            else:
                back_parts = min(left.setdefault(counter, parts), hold.parts)
                left[counter] -= back_parts
            back_credit = (
                hold.credit
                if back_parts == hold.parts
                else (hold.credit * back_parts / hold.parts).quantize(CREDIT_STEP)
            )
            if not back_parts and not back_credit:
                continue
            Usage.objects.filter(pk=hold.usage_id).update(
                parts=Greatest(F("parts") - back_parts, Value(0)),
                credit=Greatest(F("credit") - back_credit, Value(ZERO)),
            )
            if back_parts == hold.parts and back_credit == hold.credit:
                hold.delete()
            else:
                Hold.objects.filter(pk=hold.pk).update(
                    parts=F("parts") - back_parts, credit=F("credit") - back_credit
                )
            given = max(given, back_parts)
        alerts.clear_if_below([hold.usage_id for hold in holds])
    return given


def resize(message_id: int, *, parts: int, credit: Decimal) -> None:
    """A held message now needs `parts` and `credit` (its scheduled text changed): each counter
    it holds is raised (only where the difference fits, else QuotaExceeded and nothing changes)
    or lowered by the difference."""
    with transaction.atomic():
        holds = (
            Hold.objects.select_for_update(of=("self",))  # PostgreSQL: not the outer-joined account
            .filter(message_id=message_id)
            .select_related("usage__quota__department", "usage__quota__account")
            .order_by("usage_id")
        )
        for hold in holds:
            more_parts, more_credit = parts - hold.parts, credit - hold.credit
            usage, quota = hold.usage, hold.usage.quota
            limits = quota.limits(usage.period)
            room = Q(pk=usage.pk)
            if "parts" in limits and more_parts > 0:
                room &= Q(parts__lte=limits["parts"] - more_parts)
            if "credit" in limits and more_credit > 0:
                room &= Q(credit__lte=limits["credit"] - more_credit)
            moved = Usage.objects.filter(room).update(
                parts=Greatest(F("parts") + more_parts, Value(0)),
                credit=Greatest(F("credit") + more_credit, Value(ZERO)),
            )
            if not moved:
                raise _refusal(quota, usage.period, usage, more_parts, more_credit)
            Hold.objects.filter(pk=hold.pk).update(parts=parts, credit=credit)
        ids = [hold.usage_id for hold in holds]
        alerts.warn_if_crossed(ids)
        alerts.clear_if_below(ids)


def _refusal(quota: Quota, period: str, usage: Usage, parts: int, credit: Decimal):
    """The refusal after a conditional UPDATE found no room, saying what is left now."""
    usage.refresh_from_db()
    try:
        _refuse_if_over(quota, period, usage, parts, credit)
    except QuotaExceeded as exc:
        return exc
    # Usage was given back between the UPDATE and this read: still refused (the UPDATE
    # decided), with what is left now.
    limits = quota.limits(period)
    metric = next(iter(limits))
    wanted = parts if metric == "parts" else credit
    left = Room(metric, limits[metric], getattr(usage, metric)).left
    return _over(quota, period, metric, wanted, left)


def _refuse_if_over(quota: Quota, period: str, usage: Usage, parts: int, credit: Decimal) -> None:
    limits = quota.limits(period)
    wanted = {"parts": parts, "credit": credit}
    for metric, limit in limits.items():
        room = Room(metric, limit, getattr(usage, metric))
        if room.used + wanted[metric] > limit:
            raise _over(quota, period, metric, wanted[metric], room.left)


def _over(quota: Quota, period: str, metric: str, wanted, left) -> QuotaExceeded:
    """The refusal of a send that needs `wanted` where `left` is left, with its figures."""
    figures = {
        "department": quota.department.name,
        "account": quota.account.name if quota.account_id else "",  # "": over all accounts
        "period": period,
        "metric": metric,
        "limit": quota.limits(period)[metric],
        "wanted": wanted,
        "left": left,
    }
    # Plain values, which a record can keep (JSON): an amount of credit as its text.
    values = {key: str(v) if isinstance(v, Decimal) else v for key, v in figures.items()}
    return QuotaExceeded(over_text(values), values=values)


def over_text(values: Mapping, name: Callable[[str], str] = str) -> str:
    """ "Over quota: this send needs 300 parts; 120 parts left today in Sales on KwtSMS.", in
    the active language, from a refusal's `values` (`name` writes a department's or account's
    name: a page isolates it)."""
    period, metric = values["period"], values["metric"]
    where = {
        "department": name(values["department"]),
        "scope": name(values["account"]) if values["account"] else _("all accounts"),
        "when": _("today") if period == Usage.Period.DAY else _("this month"),
    }
    limit, wanted, left = (Decimal(str(values[key])) for key in ("limit", "wanted", "left"))
    if metric == "parts":
        limit, wanted, left = int(limit), int(wanted), int(left)
        amount = ngettext("%(count)s part", "%(count)s parts", limit) % {"count": f"{limit:,}"}
        needs = ngettext(
            "this send needs %(count)s part", "this send needs %(count)s parts", wanted
        ) % {"count": f"{wanted:,}"}
        rest = ngettext(
            "%(count)s part left %(when)s in %(department)s on %(scope)s",
            "%(count)s parts left %(when)s in %(department)s on %(scope)s",
            left,
        ) % {"count": f"{left:,}", **where}
    else:
        amount = _("%(amount)s credits") % {"amount": f"{limit:,.2f}"}
        needs = _("this send needs %(amount)s credits") % {"amount": f"{wanted:,.2f}"}
        rest = _("%(amount)s credits left %(when)s in %(department)s on %(scope)s") % {
            "amount": f"{left:,.2f}",
            **where,
        }
    if not limit:
        return _(
            "Over quota: the quota of %(department)s on %(scope)s is zero (%(amount)s "
            "%(per)s), so nothing can be sent. Ask a Manager to raise it."
        ) % {**where, "amount": amount, "per": _per(period)}
    return _("Over quota: %(needs)s; %(rest)s.") % {"needs": needs, "rest": rest}


def _per(period: str) -> str:
    return _("a day") if period == Usage.Period.DAY else _("a month")
