"""The admin shows what was sent as a record: read-only, with times to the second."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from smsportal.messaging.models import Delivery, DeliveryEvent, DeliveryPart
from smsportal.messaging.sending import ResolvedRecipients
from tests.factories import UserFactory
from tests.support.sending import create_message

pytestmark = pytest.mark.django_db

TO_THE_SECOND = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def delivery(account, script, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = create_message(
            account=account, body="Sent", recipients=ResolvedRecipients(phones=["+96550000009"])
        )
    return message.deliveries.get()


def test_a_delivery_and_its_history_cannot_be_edited_even_by_a_superuser(admin_client, delivery):
    DeliveryPart.objects.create(
        delivery=delivery, account_id=delivery.account_id, number=1, provider_message_id="P-1"
    )
    url = reverse("admin:messaging_delivery_change", args=[delivery.pk])

    page = admin_client.get(url).content.decode()
    posted = admin_client.post(url, {"phone": "+96550000000", "status": "delivered"})

    assert 'name="phone"' not in page and 'name="status"' not in page
    assert 'name="events-0-description"' not in page
    assert "P-1" in page and 'name="parts-0-provider_message_id"' not in page
    assert posted.status_code == 403
    delivery.refresh_from_db()
    assert delivery.phone == "+96550000009" and delivery.status == "submitted"


def test_no_delivery_message_or_event_is_added_or_deleted_in_the_admin(admin_client, delivery):
    for model in ("delivery", "message", "unmatchedreport"):
        assert admin_client.get(reverse(f"admin:messaging_{model}_add")).status_code == 403
    delete = reverse("admin:messaging_delivery_delete", args=[delivery.pk])

    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert Delivery.objects.filter(pk=delivery.pk).exists()
    message = reverse("admin:messaging_message_change", args=[delivery.message_id])
    assert admin_client.post(message, {"body": "Changed"}).status_code == 403


def test_delivery_times_and_event_times_show_seconds(admin_client, delivery):
    assert DeliveryEvent.objects.filter(delivery=delivery).exists()

    page = admin_client.get(
        reverse("admin:messaging_delivery_change", args=[delivery.pk])
    ).content.decode()
    listing = admin_client.get(reverse("admin:messaging_delivery_changelist")).content.decode()

    stamp = delivery.queued_at.strftime("%Y-%m-%d %H:%M:%S")
    assert stamp in page and stamp in listing
    event = DeliveryEvent.objects.filter(delivery=delivery).first()
    assert event.created_at.strftime("%Y-%m-%d %H:%M:%S") in page
    assert len(TO_THE_SECOND.findall(page)) >= 3  # queued, submitted, the event
