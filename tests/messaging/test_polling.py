from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from smsportal.messaging.delivery_reports.polling import GIVE_UP_AFTER, next_interval, poll_account
from smsportal.messaging.models import Delivery, Message
from smsportal.providers.backends.base import StatusUpdate
from smsportal.sms.status import DeliveryStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def kala(account, script):
    script.reports_poll = True
    account.kind = "kalasms"
    account.save()
    return account


def submitted(account, provider_id, **fields):
    message = Message.objects.create(
        account=account, body="x", encoding="GSM-7", segments=1, status=Message.Status.DONE
    )
    return Delivery.objects.create(
        message=message,
        account=account,
        phone="+96550000001",
        status=DeliveryStatus.SUBMITTED,
        provider_message_id=provider_id,
        submitted_at=timezone.now(),
        **fields,
    )


def test_polling_settles_a_delivery_the_provider_reports(kala, script):
    delivery = submitted(kala, "77")
    script.poll_answers["77"] = DeliveryStatus.DELIVERED

    assert poll_account(kala) == 1

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.events.get().source == "poll"


def test_a_pending_delivery_is_asked_again_later_with_back_off(kala, script):
    delivery = submitted(kala, "78")
    now = timezone.now()

    poll_account(kala, now)
    poll_account(kala, now)  # not due yet: not asked again

    delivery.refresh_from_db()
    assert script.polled == ["78"]
    assert delivery.polls == 1
    assert delivery.next_poll_at == now + next_interval(1)
    assert next_interval(10) == timedelta(hours=1)


def test_the_bulk_report_list_comes_first(kala, script):
    delivery = submitted(kala, "79")
    script.recent = [
        StatusUpdate(provider_message_id="79", status=DeliveryStatus.UNDELIVERED),
        StatusUpdate(provider_message_id="not-ours", status=DeliveryStatus.DELIVERED),
    ]

    poll_account(kala)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.UNDELIVERED
    assert script.polled == []


def test_a_delivery_without_a_report_for_too_long_becomes_unknown(kala, script):
    delivery = submitted(kala, "80")
    Delivery.objects.filter(pk=delivery.pk).update(
        submitted_at=timezone.now() - GIVE_UP_AFTER - timedelta(minutes=1)
    )

    poll_account(kala)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.UNKNOWN
    assert "No delivery report within 72 hours" in delivery.events.get().description


def test_the_command_polls_every_pollable_account(kala, script, capsys):
    submitted(kala, "81")
    script.poll_answers["81"] = DeliveryStatus.DELIVERED

    call_command("poll_delivery_reports")

    assert "1 deliveries changed" in capsys.readouterr().out
