"""The multi-row INSERT helper writes the same rows as bulk_create (on either database)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.forms.models import model_to_dict
from django.utils import timezone

from smsportal.messaging import bulk_insert
from smsportal.messaging.bulk_insert import insert_rows
from smsportal.messaging.models import Delivery, DeliveryEvent, Message
from smsportal.sms.status import DeliveryStatus
from tests.factories import ProviderAccountFactory


@pytest.fixture
def message(db):
    account = ProviderAccountFactory()
    return Message.objects.create(account=account, body="Hi", encoding="GSM-7", segments=2)


def comparable(row) -> dict:
    values = model_to_dict(row)
    values.pop("id")
    return values


def test_the_rows_are_those_bulk_create_writes(message):
    now = timezone.now().replace(microsecond=123456)
    first_sent = now - timedelta(hours=2)
    phones = [("+96550000001", "", None), ("+96550000002", "seq-7", first_sent)]
    Delivery.objects.bulk_create(
        Delivery(
            message=message,
            account_id=message.account_id,
            phone=phone,
            seqno=seqno,
            first_sent_at=sent,
            segments=2,
            queued_at=now,
        )
        for phone, seqno, sent in phones
    )
    expected = [comparable(d) for d in Delivery.objects.order_by("id")]
    Delivery.objects.all().delete()

    inserted = insert_rows(
        Delivery,
        ["phone", "seqno", "first_sent_at"],
        phones,
        message_id=message.pk,
        account_id=message.account_id,
        segments=2,
        queued_at=now,
    )

    assert inserted == 2
    assert [comparable(d) for d in Delivery.objects.order_by("id")] == expected


def test_defaults_auto_now_add_choices_and_json_are_written(message):
    delivery = Delivery.objects.create(message=message, account_id=message.account_id, phone="+1")
    before = timezone.now()

    insert_rows(
        DeliveryEvent,
        ["delivery_id", "to_status", "raw"],
        [(delivery.pk, DeliveryStatus.SUBMITTED, {"provider_message_id": "p-1"})],
        source=DeliveryEvent.Source.SUBMIT,
        from_status=DeliveryStatus.SENDING,
    )

    event = DeliveryEvent.objects.get()
    assert (event.source, event.from_status, event.to_status) == ("submit", "sending", "submitted")
    assert event.raw == {"provider_message_id": "p-1"}
    assert event.description == ""
    assert event.created_at >= before - timedelta(seconds=1)


def test_rows_beyond_one_statement_go_in_several(message, monkeypatch):
    monkeypatch.setattr(bulk_insert, "MAX_ROWS_PER_STATEMENT", 3)
    monkeypatch.setattr(bulk_insert, "ROWS_PER_ARRAY_STATEMENT", 3)

    inserted = insert_rows(
        Delivery,
        ["phone"],
        ((f"+9655000{i:04d}",) for i in range(7)),
        message=message,
        account_id=message.account_id,
    )

    assert inserted == 7
    phones = list(Delivery.objects.order_by("id").values_list("phone", flat=True))
    assert phones == [f"+9655000{i:04d}" for i in range(7)]
    assert set(Delivery.objects.values_list("status", "segments")) == {("queued", 1)}


def test_a_field_the_model_lacks_is_refused(message):
    with pytest.raises(TypeError, match="no field named colour"):
        insert_rows(Delivery, ["phone"], [("+1",)], message=message, colour="red")


def test_a_foreign_key_may_be_given_by_its_column_name(message):
    delivery = Delivery.objects.create(message=message, account_id=message.account_id, phone="+1")

    insert_rows(
        DeliveryEvent,
        ["delivery_id", "to_status"],
        [(delivery.pk, "submitted")],
        source="submit",
        from_status="sending",
    )

    assert DeliveryEvent.objects.get().delivery_id == delivery.pk


def test_the_constants_go_once_per_statement_not_once_per_row(message):
    """A send's 100,000 deliveries differ only by phone: each statement carries the phones and
    the row's other values once, not every column of every row."""
    from django.db import connection

    sent: list[int] = []

    def count_parameters(execute, sql, params, many, context):
        sent.append(len(params or ()))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count_parameters):
        inserted = insert_rows(
            Delivery,
            ["phone"],
            ((f"+9655{i:07d}",) for i in range(2500)),
            message_id=message.pk,
            account_id=message.account_id,
            segments=2,
        )

    assert inserted == 2500
    constants = len(Delivery._meta.concrete_fields) - 2  # all but the id and the phone
    if connection.vendor == "sqlite":
        assert sum(sent) == 2500 + constants * len(sent)
    else:  # PostgreSQL: the phones as one array, the constants once, in one statement
        assert sent == [1 + constants]
    rows = list(Delivery.objects.order_by("id").values_list("phone", "segments", "status"))
    assert rows == [(f"+9655{i:07d}", 2, "queued") for i in range(2500)]


def test_several_varying_columns_keep_their_order_and_types(message):
    sent_at = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    rows = [("+96550000001", "one", 3, "s-1", sent_at), ("+96550000002", "", 1, "", None)]

    insert_rows(
        Delivery,
        ["phone", "text", "segments", "seqno", "first_sent_at"],
        rows,
        message_id=message.pk,
        account_id=message.account_id,
    )

    found = Delivery.objects.order_by("id").values_list(
        "phone", "text", "segments", "seqno", "first_sent_at"
    )
    assert list(found) == rows
