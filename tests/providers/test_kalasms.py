from __future__ import annotations

from decimal import Decimal

import pytest

from smsportal.providers.backends.base import (
    OutgoingMessage,
    ProviderError,
    Recipient,
    SubmitStatus,
    TransientError,
)
from smsportal.sms.status import DeliveryStatus
from tests.factories import ProviderAccountFactory

pytestmark = pytest.mark.django_db

ONE = [Recipient("+353879878978", "1")]


@pytest.fixture
def kala(db):
    return ProviderAccountFactory(kind="kalasms", username="353879878978", password="123456")


def test_sendsms_puts_the_seeds_parameters_on_the_wire(kala, wire):
    wire.answer("66802")

    result = kala.backend.send(OutgoingMessage("hello á¶"), ONE)

    assert wire.last.method == "GET"
    assert wire.last.url == "http://www.kalasms.com/core/smsdo.aspx"
    assert wire.last.params == {
        "opt": "sendsms",
        "user": "353879878978",
        "pwd": "123456",
        "destination": "353879878978",
        "message": "hello á¶",
    }
    assert result.results[0].provider_message_id == "66802"


def test_the_message_is_percent_encoded_as_utf8():
    from urllib.parse import urlencode

    assert urlencode({"message": "á¶"}) == "message=%C3%A1%C2%B6"


def test_rssendsms_is_an_account_option(kala, wire):
    kala.options = {"use_rssendsms": True}
    wire.answer("1")

    kala.backend.send(OutgoingMessage("x"), ONE)

    assert wire.last.params["opt"] == "rssendsms"


@pytest.mark.parametrize("answer", ["Invalid user or password", "Insufficient credit", "OK"])
def test_anything_but_a_message_id_is_a_refusal_shown_verbatim(kala, wire, answer):
    wire.answer(answer)

    (result,) = kala.backend.send(OutgoingMessage("x"), ONE).results

    assert result.status == SubmitStatus.FAILED
    assert answer in result.error_text


THREE = [Recipient(f"+35387987897{i}", str(i)) for i in range(3)]


def test_several_recipients_keep_their_results_when_one_is_refused(kala, wire):
    wire.answer("66801", "Invalid destination", "66803")

    results = kala.backend.send(OutgoingMessage("hello"), THREE).results

    assert [(r.status, r.provider_message_id) for r in results] == [
        (SubmitStatus.SUBMITTED, "66801"),
        (SubmitStatus.FAILED, ""),
        (SubmitStatus.SUBMITTED, "66803"),
    ]
    assert "Invalid destination" in results[1].error_text
    assert [r.params["destination"] for r in wire.requests] == [
        "353879878970",
        "353879878971",
        "353879878972",
    ]


def test_a_timeout_after_an_accepted_send_keeps_it_and_sends_no_more(kala, wire):
    wire.answer("66801", TransientError("no answer", request_sent=True, code="timeout"))

    results = kala.backend.send(OutgoingMessage("hello"), THREE).results

    assert [r.status for r in results] == [
        SubmitStatus.SUBMITTED,
        SubmitStatus.UNKNOWN,
        SubmitStatus.FAILED,
    ]
    assert len(wire.requests) == 2


def test_a_sender_id_is_never_silently_dropped(kala, wire):
    assert not kala.backend.capabilities.sender_per_message

    with pytest.raises(ProviderError, match="default sender"):
        kala.backend.send(OutgoingMessage("hello", sender="MYSHOP"), ONE)
    assert wire.requests == []


def test_sendbulk_sends_to_a_remote_list(kala, wire):
    wire.answer("555")

    result = kala.backend.send_to_remote_list("customers", OutgoingMessage("please"))

    assert wire.last.params["opt"] == "sendbulk"
    assert wire.last.params["list"] == "customers"
    assert result.results[0].provider_message_id == "555"


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("delivered", DeliveryStatus.DELIVERED),
        ("Failed", DeliveryStatus.UNDELIVERED),
        ("pending", DeliveryStatus.SUBMITTED),
        ("whatever", DeliveryStatus.UNKNOWN),
    ],
)
def test_a_polled_report_word_maps_onto_our_statuses(kala, wire, word, status):
    wire.answer(word)

    update = kala.backend.delivery_status("66802")

    assert update.status == status
    assert wire.last.params["messageid"] == "66802"


def test_delreport_lists_many_reports(kala, wire):
    wire.answer("66802,delivered\n66803: failed")

    updates = kala.backend.recent_delivery_reports()

    assert [(u.provider_message_id, u.status) for u in updates] == [
        ("66802", DeliveryStatus.DELIVERED),
        ("66803", DeliveryStatus.UNDELIVERED),
    ]


def test_deletelist_sends_list_not_the_seeds_misspelt_lis(kala, wire):
    wire.answer("OK")

    kala.backend.delete_remote_list("customers")

    assert wire.last.params["list"] == "customers"
    assert "lis" not in wire.last.params


def test_end_to_end_every_operation_against_the_sandbox(sandbox, sandbox_account):
    backend = sandbox_account("kalasms").backend

    sent = backend.send(OutgoingMessage("Hi"), ONE).results[0]
    assert sent.status == SubmitStatus.SUBMITTED
    assert backend.delivery_status(sent.provider_message_id).status == DeliveryStatus.DELIVERED
    assert backend.recent_delivery_reports()[0].provider_message_id == sent.provider_message_id
    assert backend.balance().amount == Decimal("9999")
    backend.create_remote_list("customers")
    backend.add_to_remote_list("customers", "+353879878978")
    backend.add_to_remote_list("customers", "+353879878979")
    assert backend.remote_lists() == ["customers"]
    bulk = backend.send_to_remote_list("customers", OutgoingMessage("All of you"))
    assert bulk.results[0].status == SubmitStatus.SUBMITTED
    assert sandbox.world.counts[("kalasms", "353879878979")] == 1
    backend.set_default_sender("1")
    assert sandbox.world.account("kalasms", "demo-kalasms").default_sender_choice == "1"
    backend.delete_remote_list("customers")
    with pytest.raises(ProviderError, match="List not found"):
        backend.delete_remote_list("customers")


@pytest.mark.parametrize(
    ("operation", "answer"),
    [("remote_lists", "No lists"), ("recent_delivery_reports", "No reports")],
)
def test_nothing_to_list_is_an_empty_answer_not_a_refusal(kala, wire, operation, answer):
    wire.answer(answer)
    assert getattr(kala.backend, operation)() == []
