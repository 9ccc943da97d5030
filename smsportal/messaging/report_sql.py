"""One delivery report applied in one PostgreSQL statement.

The portable path (`services._write`) takes a transaction of five round trips: lock the
deliveries, upsert the daily summary, update them, insert their events, commit. Reports come in
floods (thousands a minute, each its own request), and on PostgreSQL the same work fits in one
statement of data-modifying CTEs, atomic on its own in autocommit: the rows are locked, moved,
given their event and counted in the summary together, or not at all. The rules are those of
`services._apply`; `tests/reports/test_stats.py` and the webhook tests hold both paths to them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.utils import timezone

from smsportal.providers.backends.base import StatusUpdate
from smsportal.reports.stats import BUCKET, WITH_REASON
from smsportal.sms.status import DeliveryStatus

FINAL = DeliveryStatus.final()
OPEN = [
    DeliveryStatus.QUEUED,
    DeliveryStatus.SENDING,
    DeliveryStatus.SUBMITTED,
    DeliveryStatus.UNKNOWN,
]

SQL = """
WITH matched AS (
    SELECT id, status, error_code, queued_at, cost
    FROM messaging_delivery
    WHERE account_id = %(account)s AND provider_message_id = %(message_id)s {phone}
    ORDER BY id
    FOR UPDATE
), old AS (
    SELECT * FROM matched
    WHERE status = ANY(%(movable)s) AND status <> %(new)s
), moved AS (
    UPDATE messaging_delivery AS d SET
        status = %(new)s,
        final_at = CASE WHEN %(final)s THEN %(final_at)s ELSE d.final_at END,
        error_code = CASE WHEN %(with_error)s
            THEN COALESCE(NULLIF(%(code)s, ''), d.error_code) ELSE d.error_code END,
        error_text = CASE WHEN %(with_error)s
            THEN COALESCE(NULLIF(%(description)s, ''), d.error_text) ELSE d.error_text END
    FROM old
    WHERE d.id = old.id
    RETURNING d.id, old.status AS old_status, old.error_code AS old_code, old.queued_at,
        old.cost, d.error_code AS new_code
), events AS (
    INSERT INTO messaging_deliveryevent
        (delivery_id, source, from_status, to_status, provider_status, description, raw,
         created_at)
    SELECT id, %(source)s, old_status, %(new)s, %(code)s, %(description)s, %(raw)s, %(now)s
    FROM moved
), counted AS (
    SELECT (queued_at AT TIME ZONE %(tz)s)::date AS day,
        CASE WHEN old_status = ANY(%(bucket_from)s) THEN %(bucket_to)s ELSE old_status END
            AS status,
        CASE WHEN old_status = ANY(%(with_reason)s) THEN left(old_code, 40) ELSE '' END
            AS reason,
        -1 AS n, -COALESCE(cost, 0) AS cost
    FROM moved
    UNION ALL
    SELECT (queued_at AT TIME ZONE %(tz)s)::date, %(new_bucket)s,
        CASE WHEN %(new_with_reason)s THEN left(new_code, 40) ELSE '' END,
        1, COALESCE(cost, 0)
    FROM moved
), summary AS (
    INSERT INTO reports_dailydeliverystats AS s (day, account_id, status, reason, count, cost)
    SELECT day, %(account)s, status, reason, sum(n), sum(cost)
    FROM counted
    GROUP BY day, status, reason
    HAVING sum(n) <> 0 OR sum(cost) <> 0
    ON CONFLICT (day, account_id, status, reason) DO UPDATE
        SET count = s.count + excluded.count, cost = s.cost + excluded.cost
)
SELECT (SELECT count(*) FROM matched), (SELECT count(*) FROM moved)
"""


def apply(account_id: int, update: StatusUpdate, source: str) -> tuple[int, int]:
    """(deliveries matching the report, deliveries it moved)."""
    new = DeliveryStatus(update.status)
    # "Accepted / en route" says something new only to a delivery whose fate was unknown.
    movable = [DeliveryStatus.UNKNOWN] if new == DeliveryStatus.SUBMITTED else OPEN
    sending, queued = next(iter(BUCKET.items()))
    params = {
        "account": account_id,
        "message_id": update.provider_message_id,
        "phone": update.recipient,
        "movable": [str(s) for s in movable],
        "new": str(new),
        "final": new in FINAL,
        "final_at": update.occurred_at or timezone.now(),
        "with_error": new not in (DeliveryStatus.DELIVERED, DeliveryStatus.SUBMITTED),
        "code": update.provider_status[:40],
        "description": update.description,
        "source": source,
        "raw": connection.ops.adapt_json_value(dict(update.raw), None),
        "now": timezone.now(),
        "tz": settings.TIME_ZONE,
        "bucket_from": [str(sending)],
        "bucket_to": str(queued),
        "with_reason": [str(s) for s in WITH_REASON],
        "new_bucket": str(BUCKET.get(new, new)),
        "new_with_reason": new in WITH_REASON,
    }
    # IntelliSoftware gives one id to every recipient of a submission: the number tells them apart.
    sql = SQL.format(phone="AND phone = %(phone)s" if update.recipient else "")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        matched, moved = cursor.fetchone()
    return matched, moved
