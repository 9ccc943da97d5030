"""The per-request send loop (dispatch._send_claimed) for a provider taking one number per
request: every number once, and the batch's fixed work paid once per batch, not per record."""

from __future__ import annotations

import pytest
from django.db import connection

from smsportal.messaging.delivery_reports import apply_unmatched_reports
from smsportal.messaging.models import DeliveryEvent, Message, UnmatchedReport
from smsportal.messaging.sending import ResolvedRecipients
from smsportal.routing import breaker
from smsportal.routing.models import AccountRouting
from smsportal.sms.status import DeliveryStatus
from tests.support.sending import create_message

pytestmark = pytest.mark.django_db


def test_one_number_per_request_sends_each_once_and_reads_the_prices_once_per_batch(
    account, script, settings, django_capture_on_commit_callbacks
):
    script.bulk_size = 1
    settings.SEND_CONCURRENCY = 4
    phones = [f"+9655{i:07d}" for i in range(40)]
    statements: list[str] = []

    def seen(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with django_capture_on_commit_callbacks() as dispatched:
        message = create_message(
            account=account, body="Hi", recipients=ResolvedRecipients(phones=phones)
        )
    with connection.execute_wrapper(seen):
        for callback in dispatched:
            callback()

    message.refresh_from_db()
    assert message.status == Message.Status.DONE
    assert sorted(script.sent_to()) == phones
    assert set(message.deliveries.values_list("status", flat=True)) == {DeliveryStatus.SUBMITTED}
    records = [sql for sql in statements if "INSERT INTO" in sql and "deliveryevent" in sql]
    price_reads = [sql for sql in statements if "routing_destinationprice" in sql]
    # Answers recorded as they come, once half the 4 slots have answered (what a refill
    # needs): not once per answer (40), not all at the end.
    assert 2 <= len(records) <= 21
    assert len(price_reads) == 1  # one batch of 40: the account's prices read once


def test_an_answer_puts_the_breaker_back_in_one_statement(account, django_assert_num_queries):
    with django_assert_num_queries(1):
        breaker.note(account.pk, not_sent=0, answered=3)
    assert not AccountRouting.objects.filter(account=account).exists()  # nothing to put back

    breaker.note(account.pk, not_sent=2, answered=0)
    with django_assert_num_queries(1):
        breaker.note(account.pk, not_sent=0, answered=1)
    assert AccountRouting.objects.get(account=account).not_sent_failures == 0


def test_a_report_that_overtook_its_send_is_applied_when_the_batch_records_the_id(
    account, script, settings, django_capture_on_commit_callbacks, django_assert_num_queries
):
    script.bulk_size = 1
    settings.SEND_CONCURRENCY = 4
    with django_capture_on_commit_callbacks() as dispatched:
        message = create_message(
            account=account,
            body="Hi",
            recipients=ResolvedRecipients(phones=[f"+9655{i:07d}" for i in range(10)]),
        )
    first = message.deliveries.order_by("id").first()
    UnmatchedReport.objects.create(
        account=account,
        provider_message_id=f"M{first.pk}",  # the id the fake provider will give it
        status=DeliveryStatus.DELIVERED,
        source=DeliveryEvent.Source.WEBHOOK,
    )

    for callback in dispatched:
        callback()

    statuses = dict(message.deliveries.values_list("id", "status"))
    assert statuses.pop(first.pk) == DeliveryStatus.DELIVERED
    assert set(statuses.values()) == {DeliveryStatus.SUBMITTED}
    assert not UnmatchedReport.objects.filter(applied_at__isnull=True).exists()
    with django_assert_num_queries(1):  # none open: one look, nothing else
        assert apply_unmatched_reports(account, [f"M{first.pk}", "M-other"]) == 0
