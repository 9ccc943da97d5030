"""Receipts for the parts of a long text (SMS Centre): a delivery cut into parts is reached
through its parts only, even when a part's receipt overtakes the batch that writes the ids."""

from __future__ import annotations

import pytest

from smsportal.messaging import parts
from smsportal.messaging.delivery_reports import apply
from smsportal.messaging.models import Delivery, DeliveryPart, Message, UnmatchedReport
from smsportal.providers.backends.base import StatusUpdate
from smsportal.sms.status import DeliveryStatus
from tests.factories import ProviderAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def smsc():
    return ProviderAccountFactory(kind="smscentre", base_url="smpp://127.0.0.1:1")


def long_delivery(account, *, segments: int, part_ids: list[str]) -> Delivery:
    message = Message.objects.create(
        account=account, body="x" * 300, encoding="GSM-7", segments=segments
    )
    delivery = Delivery.objects.create(
        message=message,
        account=account,
        phone="+96597119440",
        status=DeliveryStatus.UNKNOWN,
        provider_message_id=part_ids[0],
        segments=segments,
    )
    parts.record_parts(account.pk, [(delivery.pk, part_ids)])
    return delivery


def receipt(part_id: str) -> StatusUpdate:
    return StatusUpdate(provider_message_id=part_id, status=DeliveryStatus.DELIVERED, raw={})


def test_one_parts_receipt_does_not_settle_a_delivery_of_two(smsc):
    # The link broke after the first part: only its id is known.
    delivery = long_delivery(smsc, segments=2, part_ids=["100001"])

    assert apply.apply_status_update(smsc, receipt("100001")) == 0

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.UNKNOWN
    assert delivery.parts.get().status == DeliveryStatus.DELIVERED


def test_a_receipt_that_overtakes_the_batch_is_kept_then_applied_through_its_part(
    smsc, monkeypatch, django_capture_on_commit_callbacks
):
    """The receipt comes while the batch is still writing: it finds neither the part nor the
    delivery, and the batch commits just before the statement that moves deliveries runs. That
    statement sees the delivery (two parts) and must not settle it whole on one part's word."""
    message = Message.objects.create(account=smsc, body="x" * 300, encoding="GSM-7", segments=2)
    delivery = Delivery.objects.create(
        message=message,
        account=smsc,
        phone="+96597119440",
        status=DeliveryStatus.SENDING,
        segments=2,
    )
    moving = apply._apply_to_deliveries

    def batch_commits_first(*args, **kwargs):
        if not delivery.parts.exists():  # the batch: the link broke after the first part
            Delivery.objects.filter(pk=delivery.pk).update(
                status=DeliveryStatus.UNKNOWN, provider_message_id="100001"
            )
            parts.record_parts(smsc.pk, [(delivery.pk, ["100001"])])
        return moving(*args, **kwargs)

    monkeypatch.setattr(apply, "_apply_to_deliveries", batch_commits_first)

    with django_capture_on_commit_callbacks(execute=True):
        apply.apply_status_update(smsc, receipt("100001"))

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.UNKNOWN  # not `delivered` on one part of two
    assert not delivery.events.exists()
    # Kept, then applied through its part once the batch's write was there.
    assert delivery.parts.get().status == DeliveryStatus.DELIVERED
    assert not UnmatchedReport.objects.filter(applied_at__isnull=True).exists()


def test_every_parts_receipt_settles_the_delivery_once(smsc):
    delivery = long_delivery(smsc, segments=2, part_ids=["100001", "100002"])

    assert apply.apply_status_update(smsc, receipt("100002")) == 0
    assert apply.apply_status_update(smsc, receipt("100001")) == 1

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.events.get().description.endswith("(part 1 of 2)")


def test_a_one_part_delivery_is_settled_by_its_receipt_directly(smsc):
    message = Message.objects.create(account=smsc, body="Hi", encoding="GSM-7", segments=1)
    delivery = Delivery.objects.create(
        message=message,
        account=smsc,
        phone="+96597119440",
        status=DeliveryStatus.SUBMITTED,
        provider_message_id="100003",
    )

    assert apply.apply_status_update(smsc, receipt("100003")) == 1

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert not DeliveryPart.objects.exists()
    assert not UnmatchedReport.objects.exists()
