"""A message's counts by status (MessageStatusCount), and of its unknown deliveries by first send
(MessageUnknownCount), stay equal to a COUNT of its deliveries whatever path moves them: the
confirm step's INSERTs, ORM updates one by one and in bulk, the report services (portable, and
the one-statement path on PostgreSQL), raw SQL, deletes."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from smsportal.messaging import dispatch
from smsportal.messaging.delivery_reports import apply_status_update
from smsportal.messaging.models import (
    Delivery,
    Message,
    MessageStatusCount,
    MessageUnknownCount,
)
from smsportal.messaging.progress import progress, progress_of
from smsportal.messaging.sending import ResolvedRecipients, prepare
from smsportal.messaging.sending import send as send_draft
from smsportal.providers.backends.base import StatusUpdate
from smsportal.sms.status import DeliveryStatus
from tests.factories import ProviderAccountFactory

pytestmark = pytest.mark.django_db

STATUSES = list(DeliveryStatus.values)


def counted(message_id: int) -> dict[str, int]:
    rows = (
        Delivery.objects.filter(message_id=message_id)
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    return dict(rows)


def summary(message_id: int) -> dict[str, int]:
    return dict(
        MessageStatusCount.objects.filter(message_id=message_id, count__gt=0).values_list(
            "status", "count"
        )
    )


def unknown_counted(message_id: int) -> dict:
    rows = (
        Delivery.objects.filter(
            message_id=message_id, status=DeliveryStatus.UNKNOWN, first_sent_at__isnull=False
        )
        .values_list("first_sent_at")
        .annotate(n=Count("id"))
        .order_by()
    )
    return dict(rows)


def unknown_summary(message_id: int) -> dict:
    return dict(
        MessageUnknownCount.objects.filter(message_id=message_id, count__gt=0).values_list(
            "first_sent_at", "count"
        )
    )


def assert_in_step(*messages: Message) -> None:
    for message in messages:
        assert summary(message.pk) == counted(message.pk)
        assert progress(message.pk).counts == counted(message.pk)
        assert unknown_summary(message.pk) == unknown_counted(message.pk)
    assert not MessageStatusCount.objects.filter(count__lt=0).exists()
    assert not MessageUnknownCount.objects.filter(count__lt=0).exists()


def send(account, n: int, skipped: int = 0) -> Message:
    recipients = ResolvedRecipients(
        phones=[f"+9655{i:07d}" for i in range(n)],
        skipped=[(f"+9656{i:07d}", "opted out") for i in range(skipped)],
    )
    return send_draft(prepare(account=account, body="Hello", recipients=recipients))


def test_the_counts_follow_random_transitions_on_every_path(db):
    account = ProviderAccountFactory(kind="kwtsms", price_per_segment=0)
    one, two = send(account, 120, skipped=3), send(account, 40)
    # A few moments of first send, as claimed batches give them; None: never sent.
    now = timezone.now()
    moments = [None, now, now - timedelta(hours=1), now - timedelta(days=2)]
    Delivery.objects.filter(message=one, id__in=Delivery.objects.filter(message=one)[:60]).update(
        status=DeliveryStatus.UNKNOWN, first_sent_at=now
    )
    assert_in_step(one, two)
    rng = random.Random(17)
    table = Delivery._meta.db_table
    for round_ in range(40):
        message = rng.choice([one, two])
        ids = list(Delivery.objects.filter(message=message).values_list("id", flat=True))
        picked = rng.sample(ids, rng.randint(1, min(30, len(ids))))
        new = rng.choice(STATUSES)
        path = round_ % 6
        if path == 0:  # one row at a time, through the ORM's save()
            for delivery in Delivery.objects.filter(id__in=picked[:5]):
                delivery.status = new
                delivery.save()
        elif path == 1:  # one UPDATE for many rows
            Delivery.objects.filter(id__in=picked).update(status=new)
        elif path == 2:  # raw SQL, as the worker's executemany and report_sql write
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"UPDATE {table} SET status = %s WHERE id = %s",  # noqa: S608
                    [(rng.choice(STATUSES), pk) for pk in picked],
                )
        elif path == 3:  # a delivery report through the status service
            target = Delivery.objects.get(id=picked[0])
            Delivery.objects.filter(id=target.id).update(
                status=DeliveryStatus.SUBMITTED, provider_message_id=f"p-{target.id}"
            )
            apply_status_update(
                account,
                StatusUpdate(
                    provider_message_id=f"p-{target.id}",
                    status=rng.choice([DeliveryStatus.DELIVERED, DeliveryStatus.UNDELIVERED]),
                    raw={},
                ),
            )
        elif path == 4:  # first sends moved (a claim's, a retry's copy), statuses kept
            Delivery.objects.filter(id__in=picked).update(first_sent_at=rng.choice(moments))
        else:  # rows deleted, and rows that do not change status at all
            Delivery.objects.filter(id__in=picked[:2]).delete()
            Delivery.objects.filter(id__in=picked[2:]).update(attempts=7)
        assert_in_step(one, two)


def test_the_worker_and_cancel_keep_the_counts(db):
    account = ProviderAccountFactory(kind="kwtsms", price_per_segment=0)
    message = send(account, 30)
    ids = list(Delivery.objects.filter(message=message).values_list("id", flat=True))

    claimed = dispatch.claim(message.pk, ids[:10], "token-1")
    assert_in_step(message)
    outcomes = [dispatch.Outcome(row.id, DeliveryStatus.SUBMITTED) for row in claimed]
    dispatch.record(message, "token-1", claimed, outcomes)
    assert_in_step(message)
    message.cancel()
    assert_in_step(message)
    assert counted(message.pk) == {"submitted": 10, "cancelled": 20}


def test_a_deleted_message_leaves_no_counts(db):
    message = send(ProviderAccountFactory(price_per_segment=0), 5)

    message.delete()

    assert not MessageStatusCount.objects.exists()


def test_progress_of_several_messages_reads_the_counts_in_one_query(db, django_assert_num_queries):
    account = ProviderAccountFactory(price_per_segment=0)
    messages = [
        send(account, 3),
        Message.objects.create(account=account, body="x", encoding="GSM-7", segments=1),
        send(account, 7),
    ]

    with django_assert_num_queries(1):
        result = progress_of(m.pk for m in messages)

    assert result[messages[0].pk].counts == {"queued": 3}
    assert messages[1].pk not in result
    assert result[messages[2].pk].total == 7
