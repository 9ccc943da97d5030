"""Usage as pages show it: a bar per quota limit (used / limit) for the current day and month,
and every counter for the CSV export."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .alerts import threshold
from .models import Quota, Usage
from .services import period_starts

LIMIT_LABELS = {
    ("day", "parts"): _("parts today"),
    ("month", "parts"): _("parts this month"),
    ("month", "credit"): _("credit this month"),
}


@dataclass(frozen=True)
class Bar:
    quota: Quota
    period: str
    metric: str
    used: int | Decimal
    limit: int | Decimal

    @property
    def label(self) -> str:
        return str(LIMIT_LABELS[(self.period, self.metric)])

    @property
    def percent(self) -> int:
        """0–100, for the bar's width (a zero quota shows full)."""
        if not self.limit:
            return 100
        return min(100, int(self.used * 100 / self.limit))

    @property
    def left(self) -> int | Decimal:
        return max(self.limit - self.used, 0)

    @property
    def level(self) -> str:
        """The bar's colour: full (nothing left), warned (past the threshold), or fine."""
        if self.used >= self.limit:
            return "danger"
        if self.used >= threshold(self.limit, self.quota.warn_at_percent):
            return "warning"
        return "success"

    @property
    def is_credit(self) -> bool:
        return self.metric == "credit"


def bars(quotas) -> list[tuple[Quota, list[Bar]]]:
    """Each quota with its bars for the current day and month (one query for the counters)."""
    quotas = list(quotas.select_related("department", "account"))
    starts = period_starts()
    current = Q(period=Usage.Period.DAY, starts=starts[Usage.Period.DAY]) | Q(
        period=Usage.Period.MONTH, starts=starts[Usage.Period.MONTH]
    )
    counters = {(u.quota_id, u.period): u for u in Usage.objects.filter(current, quota__in=quotas)}
    found = []
    for quota in quotas:
        rows = []
        for period in Usage.Period.values:
            counter = counters.get((quota.pk, period))
            for metric, limit in quota.limits(period).items():
                used = getattr(counter, metric) if counter else 0
                rows.append(Bar(quota, period, metric, used, limit))
        found.append((quota, rows))
    return found


EXPORT_HEADER = [
    "department",
    "account",
    "period",
    "starts",
    "parts_used",
    "parts_limit",
    "credit_used",
    "credit_limit",
    "warn_at_percent",
]


def export_rows(quotas, since=None, until=None) -> Iterator[list]:
    """Every counter of `quotas` (newest first), with the quota's current limits."""
    counters = Usage.objects.filter(quota__in=quotas).select_related(
        "quota__department", "quota__account"
    )
    if since:  # a month counter counts when any of its days is in the range
        counters = counters.filter(
            Q(period=Usage.Period.DAY, starts__gte=since)
            | Q(period=Usage.Period.MONTH, starts__gte=since.replace(day=1))
        )
    if until:
        counters = counters.filter(starts__lte=until)
    for usage in counters.order_by("-starts", "quota__department__name", "quota_id", "period"):
        quota = usage.quota
        limits = quota.limits(usage.period)
        yield [
            quota.department.name,
            quota.account.name if quota.account_id else "all accounts",
            usage.period,
            usage.starts.isoformat(),
            usage.parts,
            limits.get("parts", ""),
            f"{usage.credit:.2f}",
            limits.get("credit", ""),
            quota.warn_at_percent,
        ]
