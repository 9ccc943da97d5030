"""POST /api/v1/messages: the compose page's checks, idempotency, the answer."""

from __future__ import annotations

import pytest

from smsportal.api.models import ApiMessage
from smsportal.messaging.models import Delivery, Message
from tests.factories import ContactFactory, OptOutFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/messages"


def body(account, **extra):
    return {"account": account.pk, "to": ["+96597119440"], "text": "Hello", **extra}


def test_a_send_answers_202_with_the_message_and_each_recipients_outcome(
    operator, account, key_for
):
    call = key_for(operator, name="Billing")
    OptOutFactory(phone="+96597119441")
    answer = call("POST", URL, body(account, to=["+96597119440", "+96597119441", "97119440"]))
    assert answer.status_code == 202, answer.content
    data = answer.json()
    message = Message.objects.get()
    assert data["message"]["id"] == message.pk
    assert data["message"]["via_api"] == "Billing"
    assert data["message"]["created_by"] == "operator"
    assert data["recipients"]["queued"] == 1
    assert data["recipients"]["skipped"] == 1
    assert data["recipients"]["duplicates"] == 1
    assert {"to": "+96597119441", "outcome": "skipped", "reason": "opted out"} in data[
        "recipients"
    ]["outcomes"]
    assert answer["Location"] == f"/api/v1/messages/{message.pk}"
    assert ApiMessage.objects.get().key_name == "Billing"
    assert Delivery.objects.filter(message=message, phone="+96597119441").get().status == "skipped"


def test_the_same_key_and_body_answer_the_first_result_and_send_nothing_more(
    operator, account, key_for
):
    call = key_for(operator)
    first = call("POST", URL, body(account), headers={"Idempotency-Key": "k-1"})
    again = call("POST", URL, body(account), headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Message.objects.count() == 1


def test_the_same_key_with_another_body_is_409_and_creates_nothing(operator, account, key_for):
    call = key_for(operator)
    call("POST", URL, body(account), headers={"Idempotency-Key": "k-1"})
    other = call("POST", URL, body(account, text="Other"), headers={"Idempotency-Key": "k-1"})
    assert other.status_code == 409
    assert other["Content-Type"] == "application/problem+json"
    assert other.json()["code"] == "idempotency_key_reused"
    assert Message.objects.count() == 1


def test_a_key_older_than_24_hours_is_free_again(operator, account, key_for):
    from datetime import timedelta

    from smsportal.api.models import IdempotencyRecord

    call = key_for(operator)
    call("POST", URL, body(account), headers={"Idempotency-Key": "k-1"})
    IdempotencyRecord.objects.update(
        created_at=IdempotencyRecord.objects.get().created_at - timedelta(hours=25)
    )
    again = call("POST", URL, body(account), headers={"Idempotency-Key": "k-1"})
    assert again.status_code == 202
    assert "Idempotent-Replayed" not in again
    assert Message.objects.count() == 2


def test_a_refused_send_creates_nothing_and_its_key_can_be_used_again(operator, account, key_for):
    call = key_for(operator)
    OptOutFactory(phone="+96597119440")
    refused = call("POST", URL, body(account), headers={"Idempotency-Key": "k-1"})
    assert refused.status_code == 422
    assert refused.json()["code"] == "no_recipients"
    assert Message.objects.count() == 0
    ok = call("POST", URL, body(account, to=["+96597119442"]), headers={"Idempotency-Key": "k-1"})
    assert ok.status_code == 202


def test_a_text_longer_than_the_account_allows_is_refused(operator, account, key_for):
    account.max_parts = 1
    account.save()
    answer = key_for(operator)("POST", URL, body(account, text="a" * 200))
    assert answer.status_code == 422
    assert answer.json()["code"] == "too_many_parts"
    assert Message.objects.count() == 0


def test_an_unknown_sender_id_is_a_field_error_as_on_the_compose_page(operator, account, key_for):
    answer = key_for(operator)("POST", URL, body(account, sender="NOSUCH"))
    assert answer.status_code == 400
    errors = answer.json()["errors"]
    assert errors[0]["field"] == "sender"
    assert Message.objects.count() == 0


def test_the_sending_key_is_shown_on_the_message_page(operator, operator_client, account, key_for):
    key_for(operator, name="HR system")("POST", URL, body(account))
    page = operator_client.get(Message.objects.get().get_absolute_url())
    assert "via API (<bdi>HR system</bdi>)" in page.content.decode()


def test_placeholders_are_filled_for_each_recipient_as_compose_fills_them(
    operator, account, key_for
):
    # The API writes texts in compose's language: each recipient's own text, and "{{" a brace.
    ContactFactory(phone="+96597119440", name="Mona Saleh")
    call = key_for(operator)

    answer = call(
        "POST",
        URL,
        body(account, to=["+96597119440", "+96597119441"], text="Hi {first_name|there} {{ok}}"),
    )

    assert answer.status_code == 202, answer.content
    texts = dict(Delivery.objects.values_list("phone", "text"))
    assert texts == {"+96597119440": "Hi Mona {ok}", "+96597119441": "Hi there {ok}"}


def test_a_text_without_placeholders_sends_a_written_brace_as_one(operator, account, key_for):
    call = key_for(operator)

    answer = call("POST", URL, body(account, text="Code {{1234}}"))

    assert answer.status_code == 202, answer.content
    assert Message.objects.get().body == "Code {1234}"


def test_a_scheduled_message_held_for_its_retired_sender_says_why(operator, account, key_for):
    from datetime import timedelta

    from django.utils import timezone

    from smsportal.messaging import dispatch
    from tests.factories import SenderIDFactory

    sender = SenderIDFactory(account=account, value="ALERTS")
    call = key_for(operator)
    later = (timezone.now() + timedelta(hours=1)).isoformat()
    answer = call("POST", URL, body(account, sender="ALERTS", schedule_at=later))
    assert answer.status_code == 202, answer.content
    message = answer.json()["message"]
    assert message["held_reason"] == ""

    sender.status = "retired"
    sender.save()
    dispatch.start(message["id"])  # its time came

    data = call("GET", f"{URL}/{message['id']}").json()
    assert data["status"] == "scheduled"
    assert data["held_reason"] == (
        "Held: its sender ID ALERTS is retired. Change its sender ID to send it."
    )
    refused = call("POST", URL, body(account, sender="ALERTS")).json()
    assert "ALERTS has been retired and can no longer be sent from" in str(refused)
