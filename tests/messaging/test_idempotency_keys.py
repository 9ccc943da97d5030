"""The one-time keys that make a send happen once (`Message.idempotency_key`, unique across the
portal) belong to their sender: a form's posted token becomes a key only under its person's own
prefix and only in the shape the portal makes, and a key another sender used is refused instead
of answered with their message. A security tester found that a token posted as another
department's key (a recurring send's predictable `recurring:<schedule>:<due time>`) pre-empted
that send and showed its message's number and recipients; an honest double submit still sends
once (test_compose, test_mail_merge, test_conversations)."""

# ruff: noqa: F811 (the tests take the fixture `world`, imported from the isolation tests)

from __future__ import annotations

import re
from datetime import timedelta
from importlib import import_module

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from smsportal.messaging import idempotency
from smsportal.messaging.models import Delivery, Message
from smsportal.messaging.sending import ResolvedRecipients, SendRefused, prepare
from smsportal.recurring.models import Occurrence, RecurringSend
from smsportal.recurring.sending import run_due
from tests.api.conftest import Caller
from tests.departments.test_isolation import _leaks, world  # noqa: F401 (the fixture)
from tests.support.compose import confirm_and_send, confirmation_in
from tests.support.sending import create_message

pytestmark = pytest.mark.django_db

COMPOSE = reverse("messaging:compose")
B_MEMBER = "+96597000333"  # the member of Bravo's list (tests/departments/test_isolation.py)


def due_schedule_of_b(world) -> tuple[RecurringSend, str]:
    """Bravo's recurring send, with its list, and the key its next occurrence will send with."""
    schedule = RecurringSend.objects.get(pk=world["b"]["schedule"].pk)
    schedule.lists.add(world["b"]["list"])
    schedule.plan()
    schedule.save()
    return schedule, f"recurring:{schedule.pk}:{schedule.next_at:%Y%m%d%H%M}"


def compose_as_alice(world, **fields) -> dict:
    return {
        "account": world["account"].pk,
        "sender": "",
        "recipients": "+96550000001",
        "text": "Alpha news",
        "department": world["alice"].departments.get().pk,
        **fields,
    }


def test_a_posted_recurring_key_does_not_pre_empt_another_departments_schedule(
    client, world, script, django_capture_on_commit_callbacks
):
    schedule, key = due_schedule_of_b(world)
    client.force_login(world["alice"])
    later = (timezone.localtime() + timedelta(days=300)).strftime("%Y-%m-%dT%H:%M")
    confirm_and_send(client, compose_as_alice(world, token=key, scheduled_for=later))
    alices = Message.objects.get(department__name="Alpha", body="Alpha news")
    client.post(reverse("messaging:message_cancel", args=[alices.pk]))

    with django_capture_on_commit_callbacks(execute=True):
        run_due(schedule.next_at + timedelta(minutes=1))

    occurrence = Occurrence.objects.get(schedule=schedule)
    assert occurrence.status == Occurrence.Status.SENT
    assert occurrence.message.department.name == "Bravo"
    assert occurrence.message.idempotency_key == key
    assert B_MEMBER in script.sent_to()  # Bravo's recurring send went out to its list
    assert Delivery.objects.filter(message=occurrence.message, phone=B_MEMBER).exists()
    assert alices.idempotency_key.startswith(f"form:{world['alice'].pk}:")  # not as posted


def test_another_departments_key_posted_as_a_token_sends_anew_and_reveals_nothing(
    client, world, script, django_capture_on_commit_callbacks
):
    bs = world["b"]["message"]
    Message.objects.filter(pk=bs.pk).update(idempotency_key="recurring:7:202612070900")
    client.force_login(world["alice"])

    for token in ("recurring:7:202612070900", f"form:{world['bob'].pk}:abc"):
        data = compose_as_alice(world, token=token, text=f"Alpha {token[:4]}")
        shown = client.post(COMPOSE, {**data, "action": "send"})
        assert _leaks(shown.content) == [] and f"#{bs.pk}" not in shown.content.decode()
        assert confirmation_in(shown)  # her own send, to confirm: not "already sent"
        with django_capture_on_commit_callbacks(execute=True):
            sent = client.post(
                COMPOSE,
                {**data, "action": "confirm", "confirmation": confirmation_in(shown)},
                follow=True,
            )
        said = " ".join(re.findall(r"Message #\d+[^<]*", sent.content.decode()))
        mine = Message.objects.get(body=f"Alpha {token[:4]}")
        assert f"Message #{mine.pk} to 1 recipient" in said and f"#{bs.pk} " not in said
        assert mine.department.name == "Alpha" and mine.pk != bs.pk
        assert mine.idempotency_key.startswith(f"form:{world['alice'].pk}:")

    assert Message.objects.get(pk=bs.pk).body == "Zulu-secret offer"  # untouched


def test_a_tampered_token_still_sends_once_as_a_fresh_send(
    operator_client, operator, account, script, django_capture_on_commit_callbacks
):
    for n, token in enumerate(["x" * 200, "a b", "form:1:x", "é", ""]):
        data = {"account": account.pk, "recipients": "+96550000001", "text": f"Hi {n}"}
        with django_capture_on_commit_callbacks(execute=True):
            confirm_and_send(operator_client, {**data, "token": token})
        key = Message.objects.get(body=f"Hi {n}").idempotency_key
        assert re.fullmatch(rf"form:{operator.pk}:[A-Za-z0-9_-]{{32}}", key)
        assert len(key) <= 64
    assert Message.objects.count() == 5


def test_a_double_submit_of_a_form_sends_once_under_its_persons_key(
    operator_client, operator, account, script, django_capture_on_commit_callbacks
):
    data = {"account": account.pk, "recipients": "+96550000001", "text": "Once", "token": "tok"}
    with django_capture_on_commit_callbacks(execute=True):
        first = confirm_and_send(operator_client, data)
        again = confirm_and_send(operator_client, data)

    message = Message.objects.get()
    assert first["Location"] == again["Location"] == message.get_absolute_url()
    assert message.idempotency_key == f"form:{operator.pk}:tok"
    assert script.sent_to() == ["+96550000001"]


def test_a_reply_with_a_tampered_token_is_sent_and_its_double_click_sends_once(
    operator_client, operator, account, script, django_capture_on_commit_callbacks
):
    from smsportal.messaging.inbound import receive
    from smsportal.messaging.models import Conversation
    from smsportal.providers.backends.base import InboundSMS

    receive(account, InboundSMS(sender="+96597119440", recipient="", text="Hi", raw={}))
    url = reverse("messaging:conversation_reply", args=[Conversation.objects.get().pk])
    with django_capture_on_commit_callbacks(execute=True):
        operator_client.post(url, {"text": "Long token", "token": "y" * 100})
        operator_client.post(url, {"text": "Twice", "token": "tok-r"})
        operator_client.post(url, {"text": "Twice", "token": "tok-r"})

    assert sorted(Message.objects.values_list("body", flat=True)) == ["Long token", "Twice"]
    assert Message.objects.get(body="Twice").idempotency_key == f"form:{operator.pk}:tok-r"


def test_a_mail_merge_resubmitted_with_another_persons_key_finds_nothing(client, world):
    bs = world["b"]["message"]
    Message.objects.filter(pk=bs.pk).update(idempotency_key="tok-bob")
    # Even a key of Alice's own shape leads only to her own message.
    mine = create_message(
        account=world["account"],
        body="Alice's",
        recipients=ResolvedRecipients(phones=["+96550000001"]),
        created_by=world["alice"],
        department=world["alice"].departments.get(),
        idempotency_key=idempotency.form_key(world["alice"], "tok-alice"),
    )
    client.force_login(world["alice"])
    gone = reverse("messaging:mail_merge", args=["0" * 32])  # the upload sent and forgotten

    assert client.post(gone, {"token": "tok-bob", "action": "confirm"}).status_code == 404
    found = client.post(gone, {"token": "tok-alice", "action": "confirm"})
    assert found["Location"] == mine.get_absolute_url()


# --- the send service ---------------------------------------------------------------------------


def prepare_for(world, who: str, key: str, **kwargs):
    user = world[who]
    return prepare(
        account=world["account"],
        body="Hello",
        recipients=ResolvedRecipients(phones=["+96550000001"]),
        user=user,
        department=user.departments.get(),
        idempotency_key=key,
        **kwargs,
    )


def test_prepare_answers_a_used_key_only_with_the_same_senders_message(world):
    bs = world["b"]["message"]
    Message.objects.filter(pk=bs.pk).update(idempotency_key="recurring:1:202612070900")

    with pytest.raises(SendRefused) as refused:
        prepare_for(world, "alice", "recurring:1:202612070900")
    assert refused.value.code == "idempotency_key_taken"
    assert str(bs.pk) not in str(refused.value) and _leaks(str(refused.value)) == []

    assert prepare_for(world, "bob", "recurring:1:202612070900").existing == bs
    # Nor does a send without a person take a person's message, nor a form key of its own.
    with pytest.raises(SendRefused):
        prepare(
            account=world["account"],
            body="Hello",
            recipients=ResolvedRecipients(phones=["+96550000001"]),
            idempotency_key="recurring:1:202612070900",
        )


def test_a_used_key_in_another_department_of_the_same_person_is_refused(world):
    from smsportal.departments.models import Department

    bob = world["bob"]
    charlie = Department.objects.create(name="Charlie")
    charlie.members.add(bob)
    key = idempotency.form_key(bob, "tok")
    bravo = Department.objects.get(name="Bravo")
    recipients = ResolvedRecipients(phones=["+96550000001"])
    sent = create_message(
        account=world["account"],
        body="Hi",
        recipients=recipients,
        created_by=bob,
        department=bravo,
        idempotency_key=key,
    )
    common = {"account": world["account"], "body": "Hi", "recipients": recipients, "user": bob}

    assert prepare(**common, department=bravo, idempotency_key=key).existing == sent
    with pytest.raises(SendRefused, match="one-time key"):
        prepare(**common, department=charlie, idempotency_key=key)


def test_a_send_without_a_person_never_answers_with_a_forms_message(account):
    recipients = ResolvedRecipients(phones=["+96550000001"])
    key = "form:12:tok"
    create_message(account=account, body="Hi", recipients=recipients, idempotency_key=key)
    with pytest.raises(SendRefused):
        create_message(account=account, body="Hi", recipients=recipients, idempotency_key=key)


def test_a_routed_part_whose_key_another_sender_used_is_refused(world, monkeypatch):
    from smsportal.messaging import routed

    bs = world["b"]["message"]
    account = world["account"]
    Message.objects.filter(pk=bs.pk).update(idempotency_key=f"k:{account.pk}:None")

    class OneAccount:
        by_account = {account.pk: ["+96550000001"]}
        by_route = {(account.pk, None): ["+96550000001"]}
        refused: list = []

    class Router:
        candidates = {account.pk: type("Candidate", (), {"sender": ""})}

    monkeypatch.setattr(routed, "plan", lambda **kwargs: (OneAccount, Router))
    alice = world["alice"]
    with pytest.raises(SendRefused, match="one-time key"):
        routed.prepare_routed(
            body="Hi",
            recipients=ResolvedRecipients(phones=["+96550000001"]),
            idempotency_key="k",
            user=alice,
            department=alice.departments.get(),
        )


# --- the API ------------------------------------------------------------------------------------


def test_the_apis_idempotency_key_never_meets_a_messages_key(world, script):
    bs = world["b"]["message"]
    Message.objects.filter(pk=bs.pk).update(idempotency_key="shared-key")
    call = Caller(world["a"]["secret"])
    body = {"account": world["account"].pk, "to": ["+96550000001"], "text": "Via API"}

    answer = call("POST", "/api/v1/messages", body, headers={"Idempotency-Key": "shared-key"})

    assert answer.status_code == 202, answer.content
    assert answer.json()["message"]["id"] != bs.pk and _leaks(answer.content) == []
    sent = Message.objects.get(body="Via API")
    assert sent.department.name == "Alpha" and sent.idempotency_key is None


# --- keys taken before the fix ------------------------------------------------------------------


def test_a_recurring_key_taken_before_the_fix_is_released_and_its_false_occurrence_undone(
    world,
):
    schedule, key = due_schedule_of_b(world)
    alpha = world["alice"].departments.get()
    recipients = ResolvedRecipients(phones=["+96550000001"])
    # What the hole left behind: Alice's message under Bravo's next key, and a past occurrence
    # of Bravo's recorded "sent" with a message of hers.
    planted = create_message(
        account=world["account"],
        body="Planted",
        recipients=recipients,
        created_by=world["alice"],
        department=alpha,
    )
    Message.objects.filter(pk=planted.pk).update(idempotency_key=key)
    earlier = timezone.now() - timedelta(days=7)
    false = Occurrence.objects.create(
        schedule=schedule, due_at=earlier, status=Occurrence.Status.SENT, message=planted
    )
    own = create_message(
        account=world["account"],
        body="Bravo's own",
        recipients=recipients,
        created_by=world["bob"],
        department=schedule.department,
    )
    own_key = f"recurring:{schedule.pk}:{earlier - timedelta(days=7):%Y%m%d%H%M}"
    Message.objects.filter(pk=own.pk).update(idempotency_key=own_key)

    migration = import_module("smsportal.recurring.migrations.0006_release_planted_keys")
    migration.release_planted_keys(apps, None)

    planted.refresh_from_db()
    false.refresh_from_db()
    assert planted.idempotency_key is None
    assert (false.status, false.message) == (Occurrence.Status.FAILED, None)
    assert false.note == {"code": "key_taken"} and "one-time key" in false.reason
    assert Message.objects.get(pk=own.pk).idempotency_key == own_key  # Bravo's own kept


def test_an_occurrence_whose_key_another_message_holds_is_recorded_not_sent(
    world, script, django_capture_on_commit_callbacks
):
    schedule, key = due_schedule_of_b(world)
    Message.objects.filter(pk=world["a"]["message"].pk).update(idempotency_key=key)  # Alpha's

    with django_capture_on_commit_callbacks(execute=True):
        run_due(schedule.next_at + timedelta(minutes=1))

    occurrence = Occurrence.objects.get(schedule=schedule)
    assert (occurrence.status, occurrence.message, occurrence.note) == (
        Occurrence.Status.FAILED,
        None,
        {"code": "key_taken"},
    )
    assert "Alpha" not in occurrence.reason and _leaks(occurrence.reason) == []
