from __future__ import annotations

import pytest
from django.urls import reverse

from smsportal.messaging.models import (
    Delivery,
    DeliveryEvent,
    InboundMessage,
    Message,
    UnmatchedReport,
)
from smsportal.sms.status import DeliveryStatus
from tests.factories import ProviderAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def isms(script):
    return ProviderAccountFactory(kind="isms")


@pytest.fixture
def delivery(isms):
    message = Message.objects.create(
        account=isms, body="x", encoding="GSM-7", segments=1, status=Message.Status.DONE
    )
    return Delivery.objects.create(
        message=message,
        account=isms,
        phone="+60123456789",
        status=DeliveryStatus.SUBMITTED,
        provider_message_id="M1",
    )


def dlr(client, token, **params):
    return client.get(reverse("hooks:isms_dlr", args=[token]), params, REMOTE_ADDR="210.5.41.23")


def test_a_report_with_the_accounts_token_moves_the_delivery(client, isms, delivery):
    response = dlr(client, isms.webhook_token, MsgId="M1", Status="6", Sender="60123")

    assert response.status_code == 200
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.events.get().source == DeliveryEvent.Source.WEBHOOK


def test_a_bad_token_is_refused_and_nothing_is_stored(client, isms, delivery):
    response = dlr(client, "not-the-token", MsgId="M1", Status="6")

    assert response.status_code == 400
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUBMITTED
    assert not UnmatchedReport.objects.exists()


def test_a_token_of_another_kind_of_provider_is_refused(client, script, delivery):
    other = ProviderAccountFactory(kind="kwtsms")

    assert dlr(client, other.webhook_token, MsgId="M1", Status="6").status_code == 400


def test_the_previous_token_works_during_a_rotation_and_not_after(client, isms, delivery):
    old = isms.webhook_token
    isms.rotate_webhook_token()

    assert dlr(client, old, MsgId="M1", Status="7").status_code == 200
    assert dlr(client, isms.webhook_token, MsgId="M1", Status="6").status_code == 200

    isms.finish_token_rotation()
    assert dlr(client, old, MsgId="M1", Status="6").status_code == 400


def test_an_address_off_the_allow_list_is_refused(client, isms, delivery):
    isms.ip_allowlist = "103.4.7.156"
    isms.save()

    assert dlr(client, isms.webhook_token, MsgId="M1", Status="6").status_code == 400
    response = client.get(
        reverse("hooks:isms_dlr", args=[isms.webhook_token]),
        {"MsgId": "M1", "Status": "6"},
        REMOTE_ADDR="103.4.7.156",
    )
    assert response.status_code == 200


def test_forwarded_for_is_believed_only_from_our_own_proxies(client, isms, delivery, settings):
    isms.ip_allowlist = "210.5.41.23"
    isms.save()
    url = reverse("hooks:isms_dlr", args=[isms.webhook_token])
    params = {"MsgId": "M1", "Status": "6"}

    spoofed = client.get(
        url, params, REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="210.5.41.23"
    )
    assert spoofed.status_code == 400

    settings.TRUSTED_PROXIES = ["10.0.0.2"]
    proxied = client.get(url, params, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="210.5.41.23")
    assert proxied.status_code == 200


def test_malformed_parameters_answer_400_without_a_crash(client, isms, delivery):
    response = dlr(client, isms.webhook_token, MsgId="M1", Status="banana")

    assert response.status_code == 400
    assert b"Bad report" in response.content


def test_a_report_for_an_unknown_id_is_stored(client, isms):
    assert dlr(client, isms.webhook_token, MsgId="nobody", Status="6").status_code == 200

    assert UnmatchedReport.objects.get().provider_message_id == "nobody"


def test_the_webhook_needs_no_login_and_no_csrf_token(isms, delivery):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(
        reverse("hooks:isms_dlr", args=[isms.webhook_token]),
        {"MsgId": "M1", "Status": "6"},
        REMOTE_ADDR="210.5.41.23",
    )

    assert response.status_code == 200


def test_an_incoming_sms_is_stored_with_its_raw_parameters(client, isms):
    response = client.get(
        reverse("hooks:isms_incoming", args=[isms.webhook_token]),
        {"ShortCode": "63633", "Sender": "+60123456789", "ContentType": "1", "Msg": "Hello"},
    )

    assert response.status_code == 200
    inbound = InboundMessage.objects.get()
    assert (inbound.sender, inbound.recipient, inbound.text) == ("+60123456789", "63633", "Hello")
    assert inbound.raw["ContentType"] == "1"


def test_a_malformed_incoming_sms_stores_nothing(client, isms):
    response = client.get(
        reverse("hooks:isms_incoming", args=[isms.webhook_token]), {"Msg": "Hello"}
    )

    assert response.status_code == 400
    assert not InboundMessage.objects.exists()


def test_a_deactivated_account_is_refused_at_once_despite_the_token_cache(client, isms, delivery):
    assert dlr(client, isms.webhook_token, MsgId="nope", Status="6").status_code == 200
    isms.is_active = False
    isms.save()

    assert dlr(client, isms.webhook_token, MsgId="M1", Status="6").status_code == 400
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUBMITTED


def test_the_token_cache_asks_the_database_again_after_a_few_seconds(
    client, isms, delivery, monkeypatch
):
    from smsportal.messaging.delivery_reports import webhooks

    assert dlr(client, isms.webhook_token, MsgId="nope", Status="6").status_code == 200
    # Changed behind the model's back (another process): seen once the cached answer expires.
    type(isms).objects.filter(pk=isms.pk).update(is_active=False)
    assert dlr(client, isms.webhook_token, MsgId="nope", Status="6").status_code == 200
    later = webhooks.time.monotonic() + webhooks.ACCOUNT_CACHE_SECONDS + 1
    monkeypatch.setattr(webhooks.time, "monotonic", lambda: later)
    assert dlr(client, isms.webhook_token, MsgId="M1", Status="6").status_code == 400


def test_a_nul_character_in_a_parameter_is_refused(client, isms, delivery):
    response = dlr(client, isms.webhook_token, MsgId="M1\x00", Status="6")
    assert response.status_code == 400
    assert not UnmatchedReport.objects.exists()
