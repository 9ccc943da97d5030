"""Forwarding: signed events to a real local endpoint, retries then disable, bounded log and
answers, private addresses refused, rotation, and ingest that never waits on an endpoint."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from smsportal.forwarding import delivery, events
from smsportal.forwarding.models import Attempt, Endpoint, Event
from smsportal.forwarding.tasks import forward_due
from smsportal.messaging.inbound import receive
from smsportal.messaging.sending import ResolvedRecipients
from smsportal.providers.backends.base import InboundSMS
from tests.factories import ProviderAccountFactory
from tests.support.receiver import start_receiver
from tests.support.sending import create_message

pytestmark = pytest.mark.django_db

PHONE = "+96597119440"


@pytest.fixture
def receiver(settings):
    settings.FORWARDING_PRIVATE_HOSTS = ["127.0.0.1"]
    receiver, server = start_receiver()
    yield receiver
    server.shutdown()
    server.server_close()


@pytest.fixture
def endpoint(receiver):
    endpoint = Endpoint(
        name="CRM", url=receiver.url, on_incoming=True, on_status=True, on_done=True
    )
    endpoint.secret_for_test = endpoint.set_new_secret()
    endpoint.save()
    return endpoint


@pytest.fixture
def sms(account, django_capture_on_commit_callbacks):
    def _sms(text, sender=PHONE, via=None):
        with django_capture_on_commit_callbacks(execute=True):
            return receive(
                via or account, InboundSMS(sender=sender, recipient="1234", text=text, raw={})
            )

    return _sms


def verify(secret: str, headers, body: bytes) -> bool:
    """The verification snippet of docs/forwarding.md, as a receiving system would run it."""
    timestamp = headers["X-Portal-Timestamp"]
    expected = hmac.new(
        secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    given = [part.removeprefix("v1=") for part in headers["X-Portal-Signature"].split(",")]
    return any(hmac.compare_digest(expected, g) for g in given)


def test_an_incoming_sms_reaches_the_endpoint_signed(sms, endpoint, receiver):
    sms("JOIN please")

    [request] = receiver.requests
    payload = json.loads(request.body)
    assert payload["type"] == "sms.incoming"
    assert payload["data"]["from"] == PHONE and payload["data"]["text"] == "JOIN please"
    assert request.headers["X-Portal-Event"] == "sms.incoming"
    assert request.headers["X-Portal-Event-Id"] == payload["id"]
    assert verify(endpoint.secret_for_test, request.headers, request.body)
    assert not verify("whsec_wrong", request.headers, request.body)
    event = Event.objects.get()
    assert event.status == Event.Status.DELIVERED and event.attempts == 1
    attempt = Attempt.objects.get()
    assert attempt.ok and attempt.status_code == 200 and attempt.response_excerpt == "ok"


def test_only_the_chosen_accounts_are_forwarded(sms, endpoint, receiver, account):
    other = ProviderAccountFactory(kind="isms")
    endpoint.accounts.set([other])

    sms("Hello")
    sms("Hello again", via=other)

    assert [json.loads(r.body)["data"]["text"] for r in receiver.requests] == ["Hello again"]


def test_ingest_stores_before_any_endpoint_is_called(account, endpoint, receiver):
    message = receive(account, InboundSMS(sender=PHONE, recipient="", text="Hi", raw={}))

    # Inside the provider's request nothing was posted: the event waits for its task.
    assert message.pk and receiver.requests == []


def test_a_failing_endpoint_is_retried_with_back_off_then_disabled(sms, endpoint, receiver):
    receiver.status = 500
    sms("Hello")
    event = Event.objects.get()
    assert event.status == Event.Status.PENDING and event.attempts == 1
    first_gap = event.next_attempt_at - timezone.now()
    assert timedelta(seconds=25) < first_gap <= timedelta(seconds=30)

    Event.objects.update(next_attempt_at=timezone.now())
    forward_due.call()
    event.refresh_from_db()
    assert event.attempts == 2
    assert event.next_attempt_at - timezone.now() > timedelta(seconds=55)  # doubled

    Event.objects.update(
        next_attempt_at=timezone.now(), created_at=timezone.now() - timedelta(hours=24)
    )
    forward_due.call()
    event.refresh_from_db()
    endpoint.refresh_from_db()
    assert event.status == Event.Status.FAILED
    assert not endpoint.is_active
    assert "failed 3 times over 24 hours (last: HTTP 500)" in endpoint.disabled_reason
    assert len(receiver.requests) == 3
    assert list(Attempt.objects.values_list("status_code", flat=True)) == [500, 500, 500]

    sms("After the disable")
    assert len(receiver.requests) == 3  # nothing queued for a disabled endpoint


def test_a_slow_endpoint_times_out_and_is_logged(sms, endpoint, receiver, settings):
    settings.FORWARDING_TIMEOUT_SECONDS = 0.3
    receiver.delay = 1.5
    sms("Hello")

    attempt = Attempt.objects.get()
    assert not attempt.ok and attempt.status_code is None
    assert attempt.error == "no answer within 0.3 seconds"
    assert Event.objects.get().status == Event.Status.PENDING  # tried again later


def test_a_slow_endpoint_gets_the_event_again_later_nothing_lost(sms, endpoint, receiver, settings):
    settings.FORWARDING_TIMEOUT_SECONDS = 0.3
    receiver.delay = 1.5
    sms("Hello")
    receiver.delay = 0
    Event.objects.update(next_attempt_at=timezone.now())
    forward_due.call()

    event = Event.objects.get()
    assert event.status == Event.Status.DELIVERED and event.attempts == 2
    assert [a.ok for a in Attempt.objects.order_by("id")] == [False, True]
    ids = {r.headers["X-Portal-Event-Id"] for r in receiver.requests}
    assert ids == {event.event_id} and len(receiver.requests) == 2  # the same event, again
    assert json.loads(receiver.requests[-1].body)["data"]["text"] == "Hello"


def test_an_answer_that_trickles_in_is_cut_at_the_time_bound(sms, endpoint, receiver, settings):
    settings.FORWARDING_TIMEOUT_SECONDS = 0.5
    receiver.answer = b"x" * 400
    receiver.trickle = 0.05  # 20 s for the whole answer, one byte at a time
    sms("Hello")

    attempt = Attempt.objects.get()
    assert attempt.latency_ms < 2_500  # the bound and one read's timeout, not 20 s
    assert attempt.ok and 0 < len(attempt.response_excerpt) < 400


def test_a_ten_megabyte_answer_is_read_only_to_the_bound(sms, endpoint, receiver):
    receiver.answer = b"x" * (10 * 1024 * 1024)
    sms("Hello")

    attempt = Attempt.objects.get()
    assert attempt.ok
    assert len(attempt.response_excerpt) == delivery.EXCERPT_CHARS


def test_the_attempt_log_keeps_a_bounded_number(sms, endpoint, receiver, monkeypatch):
    monkeypatch.setattr(delivery, "ATTEMPTS_KEPT", 3)
    for i in range(5):
        sms(f"Message {i}")

    assert Attempt.objects.count() == 3


def test_a_private_address_is_refused_unless_allowed(manager_client, settings):
    data = {"name": "Internal", "url": "http://10.1.2.3/hook", "on_incoming": "on"}
    refused = manager_client.post(reverse("forwarding:create"), data)

    assert "10.1.2.3 is not a public address" in refused.content.decode()
    assert "FORWARDING_PRIVATE_HOSTS" in refused.content.decode()
    assert not Endpoint.objects.exists()

    settings.FORWARDING_PRIVATE_HOSTS = ["10.1.2.3"]
    made = manager_client.post(reverse("forwarding:create"), data)
    assert made.status_code == 200 and 'id="secret-value"' in made.content.decode()
    assert Endpoint.objects.get().secret.startswith("whsec_")


def test_the_secret_is_shown_only_when_made(manager_client, endpoint):
    page = manager_client.get(endpoint.get_absolute_url()).content.decode()

    assert endpoint.secret_for_test not in page
    assert endpoint.secret_for_test not in endpoint.secret_encrypted


def test_a_rotation_signs_with_both_secrets_until_finished(manager_client, sms, endpoint, receiver):
    response = manager_client.post(reverse("forwarding:rotate", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    new = endpoint.secret
    assert new in response.content.decode() and new != endpoint.secret_for_test

    sms("During the rotation")
    headers, body = receiver.requests[-1].headers, receiver.requests[-1].body
    assert headers["X-Portal-Signature"].count("v1=") == 2
    assert verify(new, headers, body) and verify(endpoint.secret_for_test, headers, body)

    manager_client.post(reverse("forwarding:finish_rotation", args=[endpoint.pk]))
    sms("After the rotation")
    headers, body = receiver.requests[-1].headers, receiver.requests[-1].body
    assert verify(new, headers, body) and not verify(endpoint.secret_for_test, headers, body)


def test_the_test_button_sends_a_test_event(
    manager_client, endpoint, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(reverse("forwarding:test", args=[endpoint.pk]))

    assert json.loads(receiver.requests[0].body)["type"] == "test"
    page = manager_client.get(endpoint.get_absolute_url()).content.decode()
    assert "data-attempt" in page


def test_status_changes_and_the_end_of_a_message_are_forwarded(
    account, script, endpoint, receiver, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(events, "CURSOR_LAG", timedelta(0))
    with django_capture_on_commit_callbacks(execute=True):
        create_message(account=account, body="Hello", recipients=ResolvedRecipients([PHONE]))
    with django_capture_on_commit_callbacks(execute=True):
        forward_due.call()

    kinds = [json.loads(r.body)["type"] for r in receiver.requests]
    assert kinds.count("message.done") == 1
    statuses = [
        json.loads(r.body)["data"]["status"]
        for r in receiver.requests
        if json.loads(r.body)["type"] == "delivery.status"
    ]
    assert statuses == ["submitted"]
    with django_capture_on_commit_callbacks(execute=True):
        forward_due.call()  # the cursor moved on: nothing twice
    assert len(receiver.requests) == len(kinds)


def test_an_operator_sees_endpoints_but_cannot_change_them(operator_client, endpoint):
    assert operator_client.get(reverse("forwarding:list")).status_code == 200
    assert operator_client.get(endpoint.get_absolute_url()).status_code == 200
    assert operator_client.post(reverse("forwarding:test", args=[endpoint.pk])).status_code == 403
    assert operator_client.get(reverse("forwarding:create")).status_code == 403


def test_the_address_is_checked_again_at_each_send(sms, endpoint, receiver, settings):
    settings.FORWARDING_PRIVATE_HOSTS = []  # allowed when saved, no longer now
    sms("Hello")

    attempt = Attempt.objects.get()
    assert "127.0.0.1 is not a public address" in attempt.error
    assert receiver.requests == []
    assert Event.objects.get().status == Event.Status.PENDING
