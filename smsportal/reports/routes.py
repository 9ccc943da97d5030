"""Deliveries, delivery rate and cost per route (the rule that chose the account of a message
sent with "Automatic"), and per account within each route: one grouped query over the range's
deliveries of routed messages. A delivery that failed over counts at the account it ended at."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, Sum

from smsportal.messaging.models import Delivery
from smsportal.messaging.scope import deliveries_visible

from .queries import Figures


@dataclass
class RouteFigures:
    name: str
    total: Figures = field(default_factory=Figures)
    accounts: dict[str, Figures] = field(default_factory=lambda: defaultdict(Figures))

    @property
    def deliveries(self) -> int:
        return sum(self.total.counts.values())

    def by_account(self) -> list[tuple[str, Figures, int]]:
        """(account, figures, deliveries), the busiest first."""
        rows = [(name, f, sum(f.counts.values())) for name, f in self.accounts.items()]
        return sorted(rows, key=lambda row: (-row[2], row[0]))


def by_route(
    since: date, until: date, departments: list[int] | None, account_id: int | None = None
) -> list[RouteFigures]:
    rows = Delivery.objects.filter(
        queued_at__date__gte=since, queued_at__date__lte=until, message__route__isnull=False
    )
    rows = deliveries_visible(rows, departments)
    if account_id:
        rows = rows.filter(account_id=account_id)
    grouped = (
        rows.values_list(
            "message__route__position",
            "message__route_id",
            "message__route__name",
            "account__name",
            "status",
        )
        .annotate(n=Count("id"), c=Sum("cost"))
        .order_by()
    )
    routes: dict[tuple[int, int], RouteFigures] = {}
    for position, route_id, name, account, status, n, cost in grouped:
        route = routes.setdefault((position, route_id), RouteFigures(name))
        route.total.add(status, n, cost or 0)
        route.accounts[account].add(status, n, cost or 0)
    return [routes[key] for key in sorted(routes)]
