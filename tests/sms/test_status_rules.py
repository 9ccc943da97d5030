"""The rule table (`smsportal.sms.status_rules`) is the one source of a delivery's moves: every pair
of statuses, put through both report paths (the portable one on every database, the one-statement
one on PostgreSQL; CI runs this file on both), moves exactly as the table says, with its history
and the daily counters in step."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from django.db import connection

from smsportal.messaging.daily_stats import Transitions, computed_from_deliveries, current, day_of
from smsportal.messaging.delivery_reports import apply_sql
from smsportal.messaging.delivery_reports.apply import apply_portably
from smsportal.messaging.models import Delivery, DeliveryEvent, Message
from smsportal.providers.backends.base import StatusUpdate
from smsportal.sms.status import DeliveryStatus
from smsportal.sms.status_rules import (
    COUNTED_WITH_REASON,
    FINAL,
    MOVES,
    REPORT_MOVES,
    REPORTABLE,
    RULES,
    SEND_MOVES,
    bucket,
    moved_by_report,
)
from tests.factories import ProviderAccountFactory

PAIRS = list(itertools.product(DeliveryStatus, DeliveryStatus))


def portable(account_id, update, source):
    return apply_portably(account_id, update, source)


def one_statement(account_id, update, source):
    if connection.vendor != "postgresql":
        pytest.skip("the one-statement path is PostgreSQL's")
    return apply_sql.apply(account_id, update, source)


@pytest.mark.django_db
@pytest.mark.parametrize("path", [portable, one_statement], ids=["portable", "one-statement"])
@pytest.mark.parametrize(("old", "new"), PAIRS, ids=[f"{old}-{new}" for old, new in PAIRS])
def test_a_report_moves_a_delivery_exactly_as_the_table_says(path, old, new):
    account = ProviderAccountFactory()
    message = Message.objects.create(
        account=account, body="x", encoding="GSM-7", segments=1, status=Message.Status.DONE
    )
    delivery = Delivery.objects.create(
        message=message,
        account=account,
        phone="+96550000001",
        status=old,
        provider_message_id="P1",
        error_code="OLD-CODE",
        error_text="old text",
        cost=Decimal("0.0500"),
    )
    moves = Transitions()
    where = (day_of(delivery.queued_at), account.pk, message.department_id)
    moves.add(*where, old, "OLD-CODE", cost=delivery.cost)
    moves.apply()
    assert current() == computed_from_deliveries()
    update = StatusUpdate(
        provider_message_id="P1",
        status=new,
        provider_status="NEW-CODE",
        description="new text",
        raw={"stat": "x"},
    )

    matched, moved = path(account.pk, update, DeliveryEvent.Source.WEBHOOK)

    expected = (old, new) in REPORT_MOVES
    delivery.refresh_from_db()
    assert (matched, moved) == (1, int(expected))
    assert delivery.status == (new if expected else old)
    assert (delivery.final_at is not None) == (expected and new in FINAL)
    replaced = expected and new not in {DeliveryStatus.DELIVERED, DeliveryStatus.SUBMITTED}
    assert (delivery.error_code, delivery.error_text) == (
        ("NEW-CODE", "new text") if replaced else ("OLD-CODE", "old text")
    )
    events = list(DeliveryEvent.objects.values_list("from_status", "to_status", "source"))
    assert events == ([(old, new, "webhook")] if expected else [])
    # The counters follow the move, in the table's buckets and with its reasons.
    assert current() == computed_from_deliveries()


def test_every_status_has_a_rule_and_final_ones_never_move():
    assert set(RULES) == set(DeliveryStatus)
    assert all(old not in FINAL for old, _new in MOVES)
    assert {old for old, new in REPORT_MOVES} == {
        DeliveryStatus.QUEUED,
        DeliveryStatus.SENDING,
        DeliveryStatus.SUBMITTED,
        DeliveryStatus.UNKNOWN,
    }
    assert {new for _old, new in REPORT_MOVES} == REPORTABLE
    assert all(old != new for old, new in REPORT_MOVES)  # the same report twice: no change
    assert set(SEND_MOVES) <= MOVES


def test_submitted_moves_only_a_delivery_whose_fate_was_unknown():
    assert moved_by_report(DeliveryStatus.SUBMITTED) == [DeliveryStatus.UNKNOWN]
    assert moved_by_report(DeliveryStatus.DELIVERED) == [
        DeliveryStatus.QUEUED,
        DeliveryStatus.SENDING,
        DeliveryStatus.SUBMITTED,
        DeliveryStatus.UNKNOWN,
    ]
    # What providers never report moves nothing.
    for status in set(DeliveryStatus) - REPORTABLE:
        assert moved_by_report(status) == []


def test_the_counters_buckets():
    assert bucket("sending") == DeliveryStatus.QUEUED
    assert {s for s in DeliveryStatus if bucket(s) != s} == {DeliveryStatus.SENDING}
    assert {
        DeliveryStatus.FAILED,
        DeliveryStatus.UNDELIVERED,
        DeliveryStatus.REJECTED,
        DeliveryStatus.EXPIRED,
        DeliveryStatus.UNKNOWN,
    } == COUNTED_WITH_REASON
