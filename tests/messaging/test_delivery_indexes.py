"""Migration 0021 took indexes off the deliveries table (each delivery write paid for every
one): every lookup they served still has an index, on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from smsportal.messaging import dispatch, flood
from smsportal.messaging.models import Delivery
from smsportal.sms.status import DeliveryStatus
from tests.factories import ProviderAccountFactory

pytestmark = pytest.mark.django_db


def plan_of(queryset_or_sql) -> str:
    if isinstance(queryset_or_sql, str):
        sql, params = queryset_or_sql, ()
    else:
        sql, params = queryset_or_sql.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A test table is tiny: make the planner show which index it can use at all.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql, params)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return " / ".join(str(row[-1]) for row in cursor.fetchall())


def test_the_sweeper_reads_the_sending_rows_through_their_own_partial_index():
    ProviderAccountFactory(kind="isms")  # a provider whose rows may be sent again
    with CaptureQueriesContext(connection) as queries:
        dispatch.requeue_repeatable(timedelta(minutes=10))
        dispatch.sweep_stuck(timedelta(minutes=10))
    reading = [q["sql"] for q in queries if '"lease_until" <' in q["sql"]]

    assert len(reading) == 2, reading  # the repeatable accounts' lookup, the sweep
    for sql in reading:
        plan = plan_of(sql)
        assert "delivery_sending_lease" in plan, (sql, plan)


def test_lookups_by_account_still_have_an_index():
    account = ProviderAccountFactory(kind="kwtsms")
    since = timezone.now() - timedelta(minutes=5)
    lookups = {
        # The account's deletion check (PROTECT) and the admin's filter by account.
        "account alone": Delivery.objects.filter(account=account).values("id"),
        # A delivery report matched by the provider's id.
        "report": Delivery.objects.filter(account=account, provider_message_id="P1").values("id"),
        # The flood rules' recent history.
        "flood": flood._history(account, since, None).values("id"),
        # Polling for reports (KalaSMS).
        "poll": Delivery.objects.filter(account=account, status=DeliveryStatus.SUBMITTED)
        .exclude(provider_message_id="")
        .values("id"),
    }
    for name, queryset in lookups.items():
        plan = plan_of(queryset)
        # SQLite: "… USING [COVERING] INDEX delivery_…"; PostgreSQL: an index or bitmap scan.
        assert "delivery_" in plan and ("INDEX" in plan or "Index" in plan), (name, plan)
        assert "Seq Scan on messaging_delivery" not in plan, (name, plan)


def test_no_write_pays_for_the_dropped_indexes():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "messaging_delivery")
    names = {name for name, about in constraints.items() if about["index"]}
    assert "delivery_status_sending" not in names
    assert "delivery_status_lease" not in names
    assert not any(name.startswith("messaging_delivery_account_id") for name in names)
    assert "delivery_sending_lease" in names
