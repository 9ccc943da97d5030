from __future__ import annotations

import pytest

from smsportal.messaging.delivery_reports import apply_status_update, apply_unmatched_reports
from smsportal.messaging.models import Delivery, DeliveryEvent, Message, UnmatchedReport
from smsportal.providers.backends.base import StatusUpdate
from smsportal.sms.status import DeliveryStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivery(account):
    message = Message.objects.create(
        account=account, body="x", encoding="GSM-7", segments=1, status=Message.Status.DONE
    )
    return Delivery.objects.create(
        message=message,
        account=account,
        phone="+96550000001",
        status=DeliveryStatus.SUBMITTED,
        provider_message_id="abc",
    )


def report(status, msgid="abc", **kwargs):
    return StatusUpdate(provider_message_id=msgid, status=status, raw={"Status": "6"}, **kwargs)


def test_a_report_moves_the_delivery_and_keeps_the_history(account, delivery):
    assert apply_status_update(account, report(DeliveryStatus.DELIVERED)) == 1

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.final_at is not None
    event = delivery.events.get()
    assert (event.from_status, event.to_status, event.raw) == (
        "submitted",
        "delivered",
        {"Status": "6"},
    )


def test_the_same_report_twice_changes_nothing_the_second_time(account, delivery):
    apply_status_update(account, report(DeliveryStatus.DELIVERED))

    assert apply_status_update(account, report(DeliveryStatus.DELIVERED)) == 0
    assert DeliveryEvent.objects.count() == 1


def test_a_final_status_never_moves_backwards(account, delivery):
    apply_status_update(account, report(DeliveryStatus.UNDELIVERED, description="Out of coverage"))

    apply_status_update(account, report(DeliveryStatus.DELIVERED))
    apply_status_update(account, report(DeliveryStatus.SUBMITTED))

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.UNDELIVERED
    assert delivery.error_text == "Out of coverage"


def test_a_report_settles_an_unknown_delivery(account, delivery):
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.UNKNOWN)

    apply_status_update(account, report(DeliveryStatus.DELIVERED))

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED


def test_a_report_for_an_unknown_id_is_kept_and_applied_when_the_id_appears(account, delivery):
    assert apply_status_update(account, report(DeliveryStatus.DELIVERED, msgid="later")) == 0
    assert UnmatchedReport.objects.filter(applied_at__isnull=True).count() == 1

    Delivery.objects.filter(pk=delivery.pk).update(provider_message_id="later")
    assert apply_unmatched_reports(account, ["later"]) == 1

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert UnmatchedReport.objects.get().applied_at is not None


def test_reports_of_another_account_do_not_touch_this_one(account, delivery):
    from tests.factories import ProviderAccountFactory

    other = ProviderAccountFactory()

    apply_status_update(other, report(DeliveryStatus.DELIVERED))

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUBMITTED


def test_a_shared_submission_id_is_told_apart_by_the_number(account, delivery):
    twin = Delivery.objects.create(
        message=delivery.message,
        account=account,
        phone="+96550000002",
        status=DeliveryStatus.SUBMITTED,
        provider_message_id="abc",
    )

    apply_status_update(account, report(DeliveryStatus.DELIVERED, recipient="+96550000002"))

    delivery.refresh_from_db()
    twin.refresh_from_db()
    assert (delivery.status, twin.status) == ("submitted", "delivered")
