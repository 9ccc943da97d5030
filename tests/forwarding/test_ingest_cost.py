"""Ingest's cost and forwarding's batches (issue 19's figures): an incoming SMS with 20 rules and
2 endpoints takes a handful of queries, its events commit with it, rules and endpoints read once
are forgotten when changed, and delivery goes per endpoint in batches that stop at an endpoint
in trouble without holding up the others."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from smsportal.contacts.models import ContactList
from smsportal.forwarding import delivery, events
from smsportal.forwarding.models import Attempt, Endpoint, Event, EventType
from smsportal.keywords import services as keyword_services
from smsportal.keywords.models import KeywordRule
from smsportal.messaging.delivery_reports import webhooks
from smsportal.messaging.inbound import receive
from smsportal.messaging.models import Conversation, InboundMessage
from smsportal.providers.backends.base import InboundSMS
from tests.factories import ProviderAccountFactory
from tests.support.postgres import free_port
from tests.support.receiver import start_receiver

pytestmark = pytest.mark.django_db

PHONE = "+96597119440"


@pytest.fixture
def receivers(settings):
    settings.FORWARDING_PRIVATE_HOSTS = ["127.0.0.1"]
    started = [start_receiver() for _ in range(2)]
    yield [receiver for receiver, _ in started]
    for _, server in started:
        server.shutdown()
        server.server_close()


def make_endpoint(url: str, name: str = "CRM") -> Endpoint:
    endpoint = Endpoint(name=name, url=url, on_incoming=True)
    endpoint.set_new_secret()
    endpoint.save()
    return endpoint


@pytest.fixture
def isms(db):
    account = ProviderAccountFactory(kind="isms")
    offers = ContactList.objects.create(name="Offers")
    for i in range(20):
        KeywordRule.objects.create(
            account=account,
            keyword=f"WORD{i}",
            reply=f"Reply {i}",
            add_to_list=offers if i % 2 else None,
        )
    return account


def incoming(client, account, sender, text):
    return client.get(
        reverse("hooks:isms_incoming", args=[account.webhook_token]),
        {"Sender": sender, "Msg": text},
    )


def test_an_incoming_sms_with_rules_and_endpoints_takes_a_handful_of_queries(
    client, isms, monkeypatch
):
    """Before: 15 queries (the summary's update then savepoint, department and insert; the rules;
    the endpoints; the events in a second transaction; a task per endpoint). Now: the SMS, one
    upsert of its conversation, one insert of its events, its tasks — in one transaction."""
    # What is kept for a few seconds stays kept here: on a loaded machine more than those few
    # seconds passed between the warm-up and the counted request, and the account was read again.
    monkeypatch.setattr(webhooks, "ACCOUNT_CACHE_SECONDS", 3600)
    monkeypatch.setattr(keyword_services, "RULE_KEYS_SECONDS", 3600)
    monkeypatch.setattr(events, "ENDPOINTS_SECONDS", 3600)
    for n in range(2):
        make_endpoint(f"https://hooks{n}.example.com/sms", name=f"Endpoint {n}")
    incoming(client, isms, "96590000001", "warm up")  # the account, rules and endpoints read once

    with CaptureQueriesContext(connection) as plain:
        assert incoming(client, isms, "96590000002", "Hello there").status_code == 200
    with CaptureQueriesContext(connection) as keyword:
        assert incoming(client, isms, "96590000003", "word7 please").status_code == 200

    # The test's own transaction holds the request's: savepoints instead of BEGIN/COMMIT.
    # On PostgreSQL the SMS and its conversation are one statement.
    expected = 2 if connection.vendor == "postgresql" else 3
    statements = [q["sql"] for q in plain.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == expected, statements  # the SMS, its conversation, its 2 events
    statements = [q["sql"] for q in keyword.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == expected, statements  # its keyword task is queued on commit
    assert Event.objects.count() == 3 * 2
    assert Conversation.objects.filter(account=isms).count() == 3


def test_the_events_are_stored_with_the_sms_in_one_transaction(account, receivers):
    make_endpoint(receivers[0].url)

    message = receive(account, InboundSMS(sender=PHONE, recipient="", text="Hi", raw={}))

    # No commit has run (the test's transaction is still open): the event is there already.
    event = Event.objects.get()
    assert json.loads(event.body)["data"]["message_id"] == message.pk
    assert receivers[0].requests == []


def test_a_failing_event_writer_leaves_no_sms_behind(account, monkeypatch):
    make_endpoint("https://hooks.example.com/sms")

    def broken(*args, **kwargs):
        raise RuntimeError("the events table is unavailable")

    monkeypatch.setattr(events.Event.objects, "bulk_create", broken)
    with pytest.raises(RuntimeError):
        receive(account, InboundSMS(sender=PHONE, recipient="", text="Hi", raw={}))

    # The provider gets an error and sends it again: nothing half-stored meanwhile.
    assert not InboundMessage.objects.exists() and not Conversation.objects.exists()


def test_a_rule_saved_after_an_sms_was_checked_matches_the_next_one(
    account, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []

    class Recorder:
        @staticmethod
        def enqueue(*args):
            queued.append(args)

    monkeypatch.setattr("smsportal.keywords.tasks.handle_keyword", Recorder)
    with django_capture_on_commit_callbacks(execute=True):
        receive(account, InboundSMS(sender=PHONE, recipient="", text="join", raw={}))
    assert queued == []  # no rule yet (and the account's rules are now kept in memory)

    rule = KeywordRule.objects.create(account=account, keyword="JOIN", reply="Welcome!")
    with django_capture_on_commit_callbacks(execute=True):
        joined = receive(account, InboundSMS(sender=PHONE, recipient="", text="join", raw={}))
    assert queued == [(joined.pk, "")]

    rule.is_active = False
    rule.save()
    with django_capture_on_commit_callbacks(execute=True):
        receive(account, InboundSMS(sender=PHONE, recipient="", text="join", raw={}))
    assert len(queued) == 1


def test_an_endpoint_made_or_limited_after_an_sms_is_heeded_at_once(account, receivers):
    receive(account, InboundSMS(sender=PHONE, recipient="", text="Before", raw={}))
    assert not Event.objects.exists()

    endpoint = make_endpoint(receivers[0].url)
    receive(account, InboundSMS(sender=PHONE, recipient="", text="After", raw={}))
    assert Event.objects.count() == 1

    endpoint.accounts.set([ProviderAccountFactory(kind="isms")])
    receive(account, InboundSMS(sender=PHONE, recipient="", text="Not for it", raw={}))
    assert Event.objects.count() == 1


def test_a_down_endpoint_costs_one_attempt_and_the_others_get_everything(
    account, receivers, django_capture_on_commit_callbacks
):
    """Nothing listens at the down endpoint's port: its batch stops at the first refusal and
    the rest wait for the retry; the healthy endpoint's events all arrive."""
    down = make_endpoint(f"http://127.0.0.1:{free_port()}/hook", name="Down")
    healthy = make_endpoint(receivers[0].url, name="Healthy")
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(5):
            receive(account, InboundSMS(sender=PHONE, recipient="", text=f"SMS {i}", raw={}))

    assert len(receivers[0].requests) == 5
    assert Event.objects.filter(endpoint=healthy, status=Event.Status.DELIVERED).count() == 5
    tried = Attempt.objects.filter(endpoint=down)
    # The immediate backend wakes delivery per SMS: one refused attempt each time it is woken
    # while its events are due, never one per waiting event.
    assert tried.count() == 1 and "connection refused" in tried.get().error
    waiting = Event.objects.filter(endpoint=down)
    assert {e.status for e in waiting} == {Event.Status.PENDING}
    assert all(e.next_attempt_at > timezone.now() + timedelta(seconds=20) for e in waiting)


def test_a_refused_event_does_not_stop_the_batch(account, receivers):
    """A 4xx is that event's answer, not the endpoint's trouble: the next ones are tried."""
    endpoint = make_endpoint(receivers[0].url)
    receivers[0].status = 422
    for i in range(3):
        events.queue([endpoint], EventType.TEST, {"n": i})

    delivered, failed, more = delivery.deliver_due(endpoint.pk)

    assert (delivered, failed, more) == (0, 3, False)
    assert len(receivers[0].requests) == 3
    assert Attempt.objects.filter(endpoint=endpoint).count() == 3


def test_a_batch_delivers_in_order_and_records_each_attempt(account, receivers):
    endpoint = make_endpoint(receivers[0].url)
    for i in range(7):
        events.queue([endpoint], EventType.TEST, {"n": i})

    assert delivery.deliver_due(endpoint.pk) == (7, 0, False)
    assert [json.loads(r.body)["data"]["n"] for r in receivers[0].requests] == list(range(7))
    assert Event.objects.filter(status=Event.Status.DELIVERED, attempts=1).count() == 7
    assert Attempt.objects.filter(ok=True).count() == 7
    assert delivery.deliver_due(endpoint.pk) == (0, 0, False)  # nothing twice


def test_waking_is_coalesced_per_endpoint_when_the_backend_can_defer(settings, monkeypatch):
    """At ingest's rates a task per event would bury the workers: an endpoint is woken at once
    for the first event of a window and once more, at the window's end, for the rest."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    monkeypatch.setattr(events, "_windows", {})
    queued = []
    monkeypatch.setattr(
        "smsportal.forwarding.events.enqueue_on_commit", lambda task, *a: queued.append(task)
    )

    for _ in range(10):
        events.wake([41, 42])

    assert len(queued) == 4  # per endpoint: one now, one deferred
    deferred = [t for t in queued if t.run_after is not None]
    assert len(deferred) == 2
    assert all(t.run_after <= timezone.now() + timedelta(seconds=1) for t in deferred)
