"""Figures for the dashboard and the charts, read from the daily summary (a few rows per day,
account and department), never by scanning deliveries.

Every function takes `departments`: the department keys the reader may see
(`messaging.scope.department_keys`), or None for every department."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext

from smsportal.departments.models import Department
from smsportal.messaging.models import DailyDeliveryStats
from smsportal.providers.models import ProviderAccount
from smsportal.providers.registry import KIND_CHOICES, backend_class
from smsportal.sms.status import DeliveryStatus as S

LEFT_THE_PORTAL = {S.SUBMITTED, S.DELIVERED, S.UNDELIVERED, S.EXPIRED, S.REJECTED, S.UNKNOWN}
FAILURES = {S.FAILED, S.UNDELIVERED, S.EXPIRED, S.REJECTED}
REPORTED = {S.DELIVERED, S.UNDELIVERED, S.EXPIRED, S.REJECTED}
# The statuses the "messages per day" chart stacks, in order, with their colours.
CHART_STATUSES = [
    (S.DELIVERED, "#198754"),
    (S.SUBMITTED, "#0dcaf0"),
    (S.UNKNOWN, "#ffc107"),
    (S.FAILED, "#dc3545"),
    (S.UNDELIVERED, "#fd7e14"),
    (S.EXPIRED, "#6c757d"),
    (S.REJECTED, "#6f42c1"),
    (S.SKIPPED, "#adb5bd"),
    (S.CANCELLED, "#dee2e6"),
    (S.QUEUED, "#0d6efd"),
]


@dataclass
class Figures:
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    cost: Decimal = Decimal("0")

    def add(self, status: str, count: int, cost: Decimal) -> None:
        self.counts[status] += count
        self.cost += cost

    @property
    def sent(self) -> int:
        return sum(self.counts[s] for s in LEFT_THE_PORTAL)

    @property
    def delivered(self) -> int:
        return self.counts[S.DELIVERED]

    @property
    def failed(self) -> int:
        return sum(self.counts[s] for s in FAILURES)

    @property
    def unknown(self) -> int:
        return self.counts[S.UNKNOWN]

    @property
    def delivery_rate(self) -> float | None:
        """Delivered share of the deliveries with a final report; None when none reported."""
        reported = sum(self.counts[s] for s in REPORTED)
        return 100 * self.delivered / reported if reported else None


def _rows(since: date, until: date, departments: list[int] | None, account_id: int | None = None):
    rows = DailyDeliveryStats.objects.filter(day__gte=since, day__lte=until)
    if departments is not None:
        rows = rows.filter(department_key__in=departments)
    if account_id:
        rows = rows.filter(account_id=account_id)
    return rows


def totals_by_account(
    since: date, until: date, departments: list[int] | None
) -> dict[int, Figures]:
    figures: dict[int, Figures] = defaultdict(Figures)
    grouped = (
        _rows(since, until, departments)
        .values_list("account_id", "status")
        .annotate(n=Sum("count"), c=Sum("cost"))
        .order_by()
    )
    for account_id, status, n, cost in grouped:
        figures[account_id].add(status, n or 0, cost or Decimal("0"))
    return figures


def periods(today: date | None = None) -> dict[str, tuple[date, date]]:
    today = today or timezone.localdate()
    return {
        "Today": (today, today),
        "7 days": (today - timedelta(days=6), today),
        "30 days": (today - timedelta(days=29), today),
    }


def _figures_by(
    column: str, since: date, until: date, departments: list[int] | None, account_id: int | None
) -> defaultdict:
    """{value of `column`: Figures} over the range, in one query grouped by it and status."""
    figures: defaultdict = defaultdict(Figures)
    grouped = (
        _rows(since, until, departments, account_id)
        .values_list(column, "status")
        .annotate(n=Sum("count"), c=Sum("cost"))
        .order_by()
    )
    for key, status, n, cost in grouped:
        figures[key].add(status, n or 0, cost or Decimal("0"))
    return figures


def per_day(since: date, until: date, departments: list[int] | None, account_id: int | None = None):
    """Rows of (day, Figures) for every day of the range, empty days included."""
    by_day = _figures_by("day", since, until, departments, account_id)
    days = [since + timedelta(days=i) for i in range((until - since).days + 1)]
    return [(day, by_day[day]) for day in days]


def failure_reasons(
    since: date,
    until: date,
    departments: list[int] | None,
    account_id: int | None = None,
    limit: int = 10,
):
    return list(
        _rows(since, until, departments, account_id)
        .filter(status__in=list(FAILURES | {S.UNKNOWN}), count__gt=0)
        .values_list("status", "reason")
        .annotate(n=Sum("count"))
        .order_by("-n")[:limit]
    )


def rate_by_provider(
    since: date, until: date, departments: list[int] | None, account_id: int | None = None
):
    """(provider kind label, Figures) per kind of provider."""
    labels = dict(ProviderAccount._meta.get_field("kind").choices)
    by_kind = _figures_by("account__kind", since, until, departments, account_id)
    return sorted(((labels.get(kind, kind), f) for kind, f in by_kind.items()), key=lambda r: r[0])


def by_department(
    since: date, until: date, departments: list[int] | None, account_id: int | None = None
) -> list[tuple[str, Figures]]:
    """(department name, Figures) per department the reader may see, the busiest first;
    messages of no department under "No department". One grouped query and one for the names."""
    figures = _figures_by("department_key", since, until, departments, account_id)
    names = dict(Department.objects.filter(pk__in=figures).values_list("pk", "name"))
    names[0] = gettext("No department")
    rows = [(names.get(key, gettext("Deleted department")), f) for key, f in figures.items()]
    return sorted((row for row in rows if sum(row[1].counts.values())), key=lambda r: -r[1].sent)


@dataclass(frozen=True)
class Unrated:
    """What the delivery rate leaves out without a word: messages that left the portal through
    accounts whose provider sends no delivery reports (KwtSMS, IntelliSoftware), so never
    reach a final report, and the names of those providers."""

    sent: int
    providers: list[str]


def unrated(
    since: date, until: date, departments: list[int] | None, account_id: int | None = None
) -> Unrated:
    """The messages sent through accounts without delivery reports, which `delivery_rate`
    cannot count (it counts only those with a final report). One grouped query."""
    kinds = [k for k, _ in KIND_CHOICES if not backend_class(k).capabilities.delivery_reports]
    grouped = (
        _rows(since, until, departments, account_id)
        .filter(account__kind__in=kinds, status__in=list(LEFT_THE_PORTAL - REPORTED))
        .values_list("account__kind")
        .annotate(n=Sum("count"))
        .order_by()
    )
    counts = {kind: n for kind, n in grouped if n}
    labels = dict(KIND_CHOICES)
    return Unrated(sum(counts.values()), sorted(labels[kind] for kind in counts))
