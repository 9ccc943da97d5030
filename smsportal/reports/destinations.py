"""Deliveries, delivery rate and cost per destination country: one grouped query over the
deliveries of the range (by the first digits of the number and the status), then each group
named by its calling code. Never a query per delivery."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.db.models import Count, Sum
from django.db.models.functions import Substr
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

from smsportal.messaging.models import Delivery
from smsportal.messaging.scope import deliveries_visible

from .queries import Figures


def country_of(head: str) -> str:
    """ "KW (+965)" for "+9659": the calling code the number starts with (1 to 3 digits)."""
    digits = head.lstrip("+")
    for length in (1, 2, 3):
        code = digits[:length]
        if code.isdigit() and int(code) in COUNTRY_CODE_TO_REGION_CODE:
            return f"{COUNTRY_CODE_TO_REGION_CODE[int(code)][0]} (+{code})"
    return "?"


def by_country(
    since: date, until: date, departments: list[int] | None, account_id: int | None = None
) -> list[tuple[str, Figures]]:
    rows = Delivery.objects.filter(queued_at__date__gte=since, queued_at__date__lte=until)
    rows = deliveries_visible(rows, departments)
    if account_id:
        rows = rows.filter(account_id=account_id)
    grouped = (
        rows.annotate(head=Substr("phone", 1, 4))
        .values_list("head", "status")
        .annotate(n=Count("id"), c=Sum("cost"))
        .order_by()
    )
    figures: dict[str, Figures] = defaultdict(Figures)
    for head, status, n, cost in grouped:
        if not head.startswith("+"):
            continue  # a list kept at the provider ("list:..."), not a number
        figures[country_of(head)].add(status, n, cost or 0)
    return sorted(figures.items(), key=lambda item: -item[1].sent)
