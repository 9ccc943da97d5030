"""Concurrent sends against the last parts of a quota, each thread with its own database
connection: on SQLite here and on PostgreSQL (DATABASE_URL=postgres://…; CI runs both). Without
the conditional UPDATE every thread would read room for itself and all would pass."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection

from smsportal.messaging.models import Message
from smsportal.messaging.sending import ResolvedRecipients, SendRefused, prepare, send
from smsportal.quotas import services
from smsportal.quotas.models import Hold, Usage

from .conftest import phones, quota

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def run_together(functions) -> list:
    """Start every function at once (a barrier); each result, or the exception it raised."""
    barrier = threading.Barrier(len(functions))
    results: list = [None] * len(functions)

    def worker(index, function):
        try:
            barrier.wait()
            results[index] = function()
        except Exception as error:
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_concurrent_sends_cannot_both_pass_on_the_last_parts(account, sales):
    q = quota(sales, account, parts_per_day=10)
    # Every draft passes the read-only check first (as on six confirm pages at once).
    drafts = [
        prepare(
            account=account,
            body="Hello",
            recipients=ResolvedRecipients(phones=phones(3)),
            department=sales,
            scheduled_for=None,
        )
        for _ in range(6)
    ]

    results = run_together([lambda d=d: send(d) for d in drafts])

    sent = [r for r in results if isinstance(r, Message)]
    refused = [r for r in results if isinstance(r, SendRefused)]
    assert len(sent) == 3 and len(refused) == 3, results
    assert all(r.code == "over_quota" for r in refused)
    assert Usage.objects.get(quota=q, period="day").parts == 9
    assert Message.objects.count() == 3 and Hold.objects.count() == 3


def test_concurrent_reservations_of_the_last_credit_take_exactly_the_limit(account, sales):
    quota(sales, credit_per_month=Decimal("5.00"), parts_per_day=1_000)

    def reserve(n):
        return lambda: services.reserve(
            sales, account, parts=1, credit=Decimal("1.00"), message_id=n
        )

    results = run_together([reserve(n) for n in range(8)])

    assert sum(1 for r in results if r == 2) == 5, results  # 2 counters raised each time
    assert sum(1 for r in results if isinstance(r, services.QuotaExceeded)) == 3
    month = Usage.objects.get(period="month")
    assert (month.credit, month.parts) == (Decimal("5.00"), 5)
    assert Usage.objects.get(period="day").parts == 5  # refusals took nothing anywhere
