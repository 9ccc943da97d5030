"""Keep the daily counters (`DailyDeliveryStats`) in step with every status change, in one
statement per batch.

Callers describe what moved as `Transitions`: (day, account, department, status, reason) ->
(count, cost), negative for what left a state; the department is the message's (None for
none), so each department reads only its own figures. `apply` adds them with one upsert that
increments, atomic on SQLite and PostgreSQL alike (INSERT ... ON CONFLICT DO UPDATE), so
concurrent workers never lose a count. Which bucket a status counts in, and whether its error
code is kept, come from the rule table (`smsportal.sms.status_rules`).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Case, CharField, Count, Sum, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from smsportal.sms.status_rules import COUNTED_WITH_REASON, RULES, bucket

from .models import DailyDeliveryStats, Delivery


def day_of(moment: datetime) -> date:
    return timezone.localdate(moment)


class Transitions:
    def __init__(self) -> None:
        self._moves: dict[tuple[date, int, int, str, str], list] = defaultdict(
            lambda: [0, Decimal("0")]
        )

    def _key(self, day: date, account_id: int, department_id: int | None, status: str, reason: str):
        status = bucket(status)
        reason = reason[:40] if status in COUNTED_WITH_REASON else ""
        return (day, account_id, department_id or 0, status, reason)

    def add(self, day, account_id, department_id, status, reason="", count=1, cost=None) -> None:
        entry = self._moves[self._key(day, account_id, department_id, status, reason)]
        entry[0] += count
        entry[1] += cost or Decimal("0")

    def move(
        self,
        day,
        account_id,
        department_id,
        old,
        new,
        *,
        old_reason="",
        new_reason="",
        old_cost=None,
        new_cost=None,
    ) -> None:
        """One delivery left `old` (with the cost it had there) for `new`."""
        self.add(day, account_id, department_id, old, old_reason, -1, -(old_cost or Decimal("0")))
        self.add(day, account_id, department_id, new, new_reason, 1, new_cost)

    def apply(self) -> None:
        rows = [(k, v) for k, v in self._moves.items() if v[0] or v[1]]
        if not rows:
            return
        table = connection.ops.quote_name(DailyDeliveryStats._meta.db_table)
        placeholders = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(rows))
        params: list = []
        for key, (count, cost) in rows:
            params += [*key, count, cost]
        # Only our own table name and placeholders are formatted in; values go as parameters.
        sql = (
            f"INSERT INTO {table} "  # noqa: S608
            "(day, account_id, department_key, status, reason, count, cost) "
            f"VALUES {placeholders} "
            "ON CONFLICT (day, account_id, department_key, status, reason) DO UPDATE SET "
            f"count = {table}.count + excluded.count, cost = {table}.cost + excluded.cost"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
        self._moves.clear()


def computed_from_deliveries() -> dict[tuple, tuple[int, Decimal]]:
    """The summary as the deliveries say it should be (slow: scans them). For `rebuild` and to
    check that the running totals stayed correct."""
    rows = (
        Delivery.objects.annotate(
            day=TruncDate("queued_at"),
            bucket=Case(
                *(
                    When(status=status, then=Value(rule.bucket.value))
                    for status, rule in RULES.items()
                    if rule.bucket != status
                ),
                default="status",
                output_field=CharField(),
            ),
            why=Case(
                When(status__in=list(COUNTED_WITH_REASON), then="error_code"),
                default=Value(""),
                output_field=CharField(),
            ),
        )
        .values("day", "account_id", "message__department_id", "bucket", "why")
        .annotate(n=Count("id"), cost=Sum("cost"))
        .order_by()
    )
    return {
        (
            r["day"],
            r["account_id"],
            r["message__department_id"] or 0,
            r["bucket"],
            r["why"][:40],
        ): (r["n"], r["cost"] or Decimal("0"))
        for r in rows
    }


def current() -> dict[tuple, tuple[int, Decimal]]:
    """The running totals, rows that came back to nothing left out. Compared in Python: SQLite
    adds costs as floating point, so a cost that came back to nothing may be stored as -3e-18
    (read back as 0.0000 at the field's four places)."""
    return {
        (r.day, r.account_id, r.department_key, r.status, r.reason): (r.count, r.cost)
        for r in DailyDeliveryStats.objects.all()
        if r.count or r.cost
    }


def rebuild() -> int:
    """Recompute the whole summary from the deliveries (after a restore or a manual fix)."""
    with transaction.atomic():
        DailyDeliveryStats.objects.all().delete()
        DailyDeliveryStats.objects.bulk_create(
            DailyDeliveryStats(
                day=day,
                account_id=account_id,
                department_key=department,
                status=status,
                reason=reason,
                count=n,
                cost=cost,
            )
            for (day, account_id, department, status, reason), (n, cost) in (
                computed_from_deliveries().items()
            )
        )
    return DailyDeliveryStats.objects.count()
