"""One delivery report applied in one PostgreSQL statement.

The portable path (`apply.apply_portably`) takes a transaction of five round trips: lock the
deliveries, upsert the daily summary, update them, insert their events, commit. Reports come in
floods (thousands a minute, each its own request), and on PostgreSQL the same work fits in one
statement of data-modifying CTEs, atomic on its own in autocommit: the rows are locked, moved,
given their event and counted in the summary together, or not at all.

Nothing here decides a rule: which statuses the report moves, whether it sets `final_at` or
replaces the error, and which bucket (and reason) each status counts in are the rule table's
(`smsportal.sms.status_rules`), passed in as parameters; the table names are the models'
(`_meta.db_table`). `tests/sms/test_status_rules.py` holds both paths to the table, pair by pair.
"""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.db import connection
from django.utils import timezone

from smsportal.providers.backends.base import StatusUpdate
from smsportal.sms.status import DeliveryStatus
from smsportal.sms.status_rules import (
    RULES,
    moved_by_report,
    report_replaces_error,
    report_sets_final_at,
)

from ..models import DailyDeliveryStats, Delivery, DeliveryEvent, Message

SQL = """
WITH matched AS (
    SELECT id, message_id, status, error_code, queued_at, cost
    FROM {delivery}
    WHERE account_id = %(account)s AND provider_message_id = %(message_id)s {phone} {one_part}
    ORDER BY id
    FOR UPDATE
), old AS (
    SELECT * FROM matched
    WHERE status = ANY(%(movable)s)
), moved AS (
    UPDATE {delivery} AS d SET
        status = %(new)s,
        final_at = CASE WHEN %(final)s THEN %(final_at)s ELSE d.final_at END,
        error_code = CASE WHEN %(with_error)s
            THEN COALESCE(NULLIF(%(code)s, ''), d.error_code) ELSE d.error_code END,
        error_text = CASE WHEN %(with_error)s
            THEN COALESCE(NULLIF(%(description)s, ''), d.error_text) ELSE d.error_text END
    FROM old
    WHERE d.id = old.id
    RETURNING d.id, old.message_id, old.status AS old_status, old.error_code AS old_code,
        old.queued_at, old.cost, d.error_code AS new_code
), events AS (
    INSERT INTO {event}
        (delivery_id, source, from_status, to_status, provider_status, description, raw,
         created_at)
    SELECT id, %(source)s, old_status, %(new)s, %(code)s, %(description)s, %(raw)s, %(now)s
    FROM moved
), status_rule AS (
    SELECT * FROM unnest(%(rule_status)s::text[], %(rule_bucket)s::text[],
        %(rule_with_reason)s::boolean[]) AS r(status, bucket, with_reason)
), owned AS (
    -- Whose figures the move counts in: the message's department, 0 for none (read, not locked).
    SELECT moved.*, COALESCE(m.department_id, 0) AS department
    FROM moved JOIN {message} AS m ON m.id = moved.message_id
), counted AS (
    SELECT (queued_at AT TIME ZONE %(tz)s)::date AS day, department, old_rule.bucket AS status,
        CASE WHEN old_rule.with_reason THEN left(old_code, 40) ELSE '' END AS reason,
        -1 AS n, -COALESCE(cost, 0) AS cost
    FROM owned JOIN status_rule AS old_rule ON old_rule.status = owned.old_status
    UNION ALL
    SELECT (queued_at AT TIME ZONE %(tz)s)::date, department, new_rule.bucket,
        CASE WHEN new_rule.with_reason THEN left(new_code, 40) ELSE '' END,
        1, COALESCE(cost, 0)
    FROM owned JOIN status_rule AS new_rule ON new_rule.status = %(new)s
), summary AS (
    INSERT INTO {counters} AS s (day, account_id, department_key, status, reason, count, cost)
    SELECT day, %(account)s, department, status, reason, sum(n), sum(cost)
    FROM counted
    GROUP BY day, department, status, reason
    HAVING sum(n) <> 0 OR sum(cost) <> 0
    ON CONFLICT (day, account_id, department_key, status, reason) DO UPDATE
        SET count = s.count + excluded.count, cost = s.cost + excluded.cost
)
SELECT (SELECT count(*) FROM matched), (SELECT count(*) FROM moved)
"""


def apply(
    account_id: int, update: StatusUpdate, source: str, *, one_part_only: bool = False
) -> tuple[int, int]:
    """(deliveries matching the report, deliveries it moved). `one_part_only`: match no
    delivery cut into parts (a report that came through none of its parts)."""
    sql, params = statement(account_id, update, source, one_part_only=one_part_only)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        matched, moved = cursor.fetchone()
    return matched, moved


def statement(
    account_id: int, update: StatusUpdate, source: str, *, one_part_only: bool = False
) -> tuple[str, dict]:
    """The statement `apply` runs for this report, and its parameters (bench/dlr_ingest.py runs
    the same behind a bare WSGI app, its floor)."""
    new = DeliveryStatus(update.status)
    params = {
        "account": account_id,
        "message_id": update.provider_message_id,
        "phone": update.recipient,
        **_rule_params(new),
        "final_at": update.occurred_at or timezone.now(),
        "code": update.provider_status[:40],
        "description": update.description,
        "source": source,
        "raw": connection.ops.adapt_json_value(dict(update.raw), None),
        "now": timezone.now(),
        "tz": settings.TIME_ZONE,
    }
    return _sql(bool(update.recipient), one_part_only), params


# What the rule table says of a status, and the statement's text, are the same for every report
# (the table is fixed at import): made once, not for each of thousands of reports a minute.
@cache
def _rule_params(new: DeliveryStatus) -> dict:
    return {
        "movable": [str(s) for s in moved_by_report(new)],
        "new": str(new),
        "final": report_sets_final_at(new),
        "with_error": report_replaces_error(new),
        "rule_status": [str(s) for s in RULES],
        "rule_bucket": [str(rule.bucket) for rule in RULES.values()],
        "rule_with_reason": [rule.counted_with_reason for rule in RULES.values()],
    }


@cache
def _sql(with_phone: bool, one_part_only: bool) -> str:
    quote = connection.ops.quote_name
    return SQL.format(
        delivery=quote(Delivery._meta.db_table),
        event=quote(DeliveryEvent._meta.db_table),
        counters=quote(DailyDeliveryStats._meta.db_table),
        message=quote(Message._meta.db_table),
        # IntelliSoftware gives one id to every recipient of a submission: the number tells
        # them apart.
        phone="AND phone = %(phone)s" if with_phone else "",
        one_part="AND segments <= 1" if one_part_only else "",
    )
