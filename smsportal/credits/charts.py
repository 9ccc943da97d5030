"""The balance-over-time chart: snapshots in time buckets, one series per account."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Min
from django.db.models.functions import TruncDay, TruncHour
from django.utils import timezone

from smsportal.providers.models import ProviderAccount

from .models import BalanceSnapshot

PERIODS = {7: "7 days", 30: "30 days", 90: "90 days"}


def balance_history(days: int) -> dict:
    """Per account, the lowest balance in each hour (7 days) or day (longer) of the period.

    The lowest, because a balance mostly falls and the low point is what staff watch for; a
    bucket holds many snapshots when every send reports one (KwtSMS). One grouped query.
    Returns {"series": [{"account", "points": [[epoch ms, amount], ...]}], "rows": [...]}.
    """
    since = timezone.now() - timedelta(days=days)
    bucket = TruncHour("taken_at") if days <= 7 else TruncDay("taken_at")
    rows = (
        BalanceSnapshot.objects.filter(taken_at__gte=since)
        .annotate(bucket=bucket)
        .values("account_id", "bucket")
        .annotate(low=Min("amount"))
        .order_by("bucket", "account_id")
    )
    names = dict(ProviderAccount.objects.values_list("pk", "name"))
    series: dict[int, list] = {}
    table = []
    for row in rows:
        series.setdefault(row["account_id"], []).append(
            [int(row["bucket"].timestamp() * 1000), float(row["low"])]
        )
        table.append({"account": names.get(row["account_id"], ""), **row})
    return {
        "series": [
            {"account": names.get(account_id, str(account_id)), "points": points}
            for account_id, points in series.items()
        ],
        "rows": table,
        "hourly": days <= 7,
    }
