"""The balance-over-time chart: snapshots in time buckets, one series per account."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db.models import BigIntegerField, Func, Min
from django.utils import timezone

from smsportal.providers.models import ProviderAccount

from .models import BalanceSnapshot

PERIODS = {7: "7 days", 30: "30 days", 90: "90 days"}
HOUR, DAY = 3600, 86400
# Days between the time axis's labelled ticks, per period: about seven labels whatever the period.
TICK_DAYS = {7: 1, 30: 5, 90: 15}


class EpochBucket(Func):
    """floor(seconds since the epoch / size): the time bucket of a datetime, as an integer,
    computed by the database's own functions. Django's TruncHour is a Python function per row
    on SQLite (4.5 s for 400,000 snapshots); this is native on both databases we support.
    Buckets are UTC hours or days."""

    output_field = BigIntegerField()

    def __init__(self, expression, size: int) -> None:
        super().__init__(expression)
        self.size = int(size)

    def as_sql(self, compiler, connection, **extra):
        template = f"CAST(FLOOR(EXTRACT(EPOCH FROM %(expressions)s) / {self.size}) AS BIGINT)"
        return super().as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        # SQLite keeps datetimes as UTC text; strftime('%s') reads them natively. The '%' is
        # doubled twice: once for the template, once for the driver's parameter style.
        template = f"(CAST(strftime('%%%%s', %(expressions)s) AS INTEGER) / {self.size})"
        return super().as_sql(compiler, connection, template=template, **extra)


def balance_history(days: int) -> dict:
    """Per account, the lowest balance in each hour (7 days) or day (longer) of the period.

    The lowest, because a balance mostly falls and the low point is what staff watch for; a
    bucket holds many snapshots when every send reports one (KwtSMS). One grouped query.
    Returns {"series": [{"account", "points": [[epoch ms, amount, label], ...]}], "rows": [...],
    "hourly", "chart": {"series", "axis"}}.
    """
    now = timezone.now()
    since = now - timedelta(days=days)
    size = HOUR if days <= 7 else DAY
    rows = (
        BalanceSnapshot.objects.filter(taken_at__gte=since)
        .annotate(bucket=EpochBucket("taken_at", size))
        .values("account_id", "bucket")
        .annotate(low=Min("amount"))
        .order_by("bucket", "account_id")
    )
    names = dict(ProviderAccount.objects.values_list("pk", "name"))
    series: dict[int, list] = {}
    table = []
    for row in rows:
        starts = datetime.fromtimestamp(row["bucket"] * size, tz=UTC)
        series.setdefault(row["account_id"], []).append(
            [_ms(starts), float(row["low"]), _label(starts, hourly=size == HOUR)]
        )
        table.append(
            {"account": names.get(row["account_id"], ""), "starts": starts, "low": row["low"]}
        )
    drawn = [
        {"account": names.get(account_id, str(account_id)), "points": points}
        for account_id, points in series.items()
    ]
    return {
        "series": drawn,
        "rows": table,
        "hourly": days <= 7,
        # What the page's script draws (static/js/credits.js), embedded with json_script.
        "chart": {"series": drawn, "axis": time_axis(since, now, days)},
    }


def time_axis(since: datetime, until: datetime, days: int) -> dict:
    """The chart's x axis, fixed to the whole period (one reading or a thousand, the axis is
    the same), with labelled ticks at local midnights every TICK_DAYS days. Computed here, in
    the portal's time zone, so the page needs no date library and labels agree with the table.
    Times are epoch milliseconds, as the chart's linear axis takes them."""
    zone = timezone.get_current_timezone()
    step = timedelta(days=TICK_DAYS.get(days, max(1, days // 7)))
    local = since.astimezone(zone)
    tick = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if tick < local:
        tick += timedelta(days=1)
    ticks = []
    while tick <= until:
        ticks.append([_ms(tick), f"{tick.day} {tick:%b}"])
        tick += step  # wall-clock arithmetic: the next local midnight, whatever DST did

    return {
        "min": _ms(since),
        "max": _ms(until),
        "ticks": ticks,
        "now_label": _label(until, hourly=True),
    }


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _label(moment: datetime, *, hourly: bool) -> str:
    local = timezone.localtime(moment)
    return f"{local.day} {local:%b %Y %H:%M}" if hourly else f"{local.day} {local:%b %Y}"
