from __future__ import annotations

from decimal import Decimal

import pytest

from smsportal.providers.backends.base import (
    AuthenticationError,
    InsufficientCredit,
    InvalidContent,
    MessageType,
    OutgoingMessage,
    ProtocolError,
    Recipient,
    SubmitStatus,
    TransferOutcome,
    TransientError,
)
from smsportal.providers.backends.isms import ucs2_hex
from smsportal.sms.status import DeliveryStatus
from tests.factories import ProviderAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def isms(db):
    return ProviderAccountFactory(kind="isms", username="User", password="Pass")


ONE = [Recipient("+60123456789", "4711")]


def test_a_text_goes_to_isendsms_with_type_1_and_our_seqno(isms, wire):
    wire.answer("1701:ABC123")

    result = isms.backend.send(OutgoingMessage("Hello", sender="63633"), ONE)

    assert wire.last.method == "POST"
    assert wire.last.url == "http://www.sms.com.my/websmsapi/ISendSMS.aspx"
    assert wire.last.params == {
        "username": "User",
        "password": "Pass",
        "message": "Hello",
        "mobile": "60123456789",
        "sender": "63633",
        "type": "1",
        "seqno": "4711",
    }
    assert result.results[0].provider_message_id == "ABC123"


@pytest.mark.parametrize(
    ("text", "kind", "type_", "body"),
    [
        ("ABC😀", MessageType.TEXT, "3", "004100420043D83DDE00"),
        ("ABC😀", MessageType.FLASH, "4", "004100420043D83DDE00"),
        ("Flash", MessageType.FLASH, "2", "Flash"),
        ("0605040B8423F0", MessageType.BINARY, "5", "0605040B8423F0"),
    ],
)
def test_the_type_and_body_follow_the_text_and_options(isms, wire, text, kind, type_, body):
    wire.answer("1701:1")

    isms.backend.send(OutgoingMessage(text, type=kind), ONE)

    assert (wire.last.params["type"], wire.last.params["message"]) == (type_, body)


def test_ucs2_hex_is_utf16_big_endian():
    assert ucs2_hex("ABC") == "004100420043"


def test_the_unicode_page_takes_the_text_as_it_is(isms, wire):
    isms.options = {"use_unicode_page": True}
    wire.answer("1701:1")

    isms.backend.send(OutgoingMessage("مرحبا"), ONE)

    assert wire.last.url.endswith("/ISendSMSUnicode.aspx")
    assert wire.last.params["message"] == "مرحبا"


def test_without_reports_many_numbers_go_in_one_nodr_request(isms, wire):
    wire.answer("1701")
    many = [Recipient(f"+6012345678{i}", str(i)) for i in range(3)]

    result = isms.backend.send(OutgoingMessage("Hi", want_delivery_report=False), many)

    assert wire.last.url.endswith("/ISendSMSNoDR.aspx")
    assert wire.last.params["mobile"] == "60123456780,60123456781,60123456782"
    assert [r.status for r in result.results] == [SubmitStatus.SUBMITTED] * 3


def test_a_barcode_message_uses_isendsms2d_with_its_msgtype(isms, wire):
    wire.answer("1701:9")

    isms.backend.send(
        OutgoingMessage("Ticket %barcode%", type=MessageType.BARCODE, barcode_format="MMS"), ONE
    )

    assert wire.last.url.endswith("/ISendSMS2D.aspx")
    assert wire.last.params["MsgType"] == "MMS"


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("1702", AuthenticationError),
        ("1703", TransientError),
        ("1704", InsufficientCredit),
        ("1706", InvalidContent),
    ],
)
def test_codes_of_the_whole_request_raise_their_error(isms, wire, code, error):
    wire.answer(code)

    with pytest.raises(error):
        isms.backend.send(OutgoingMessage("x"), ONE)


def test_an_invalid_number_fails_that_recipient(isms, wire):
    wire.answer("1705")

    (result,) = isms.backend.send(OutgoingMessage("x"), ONE).results

    assert (result.status, result.error_code) == (SubmitStatus.FAILED, "1705")


def test_1718_means_the_earlier_request_arrived(isms, wire):
    wire.answer("1718")

    (result,) = isms.backend.send(OutgoingMessage("x"), ONE).results

    assert (result.status, result.error_code) == (SubmitStatus.SUBMITTED, "1718")


@pytest.mark.parametrize("answer", ["1701", "1799", "OK", "<html>", "17O1:abc"])
def test_an_unknown_answer_is_a_protocol_error(isms, wire, answer):
    wire.answer(answer)

    with pytest.raises(ProtocolError):
        isms.backend.send(OutgoingMessage("x"), ONE)


@pytest.mark.parametrize("answer", ["120,880", "120:880", "120 880", "120\n880"])
def test_credits_left_reads_used_and_remaining(isms, wire, answer):
    wire.answer(answer)

    balance = isms.backend.balance()

    assert (balance.used, balance.amount) == (Decimal("120"), Decimal("880"))


@pytest.mark.parametrize("answer", ["880", "a,b", "1,2,3"])
def test_credits_left_fails_loudly_on_anything_else(isms, wire, answer):
    wire.answer(answer)

    with pytest.raises(ProtocolError):
        isms.backend.balance()


@pytest.mark.parametrize(
    ("answer", "outcome"),
    [
        ("1707", TransferOutcome.DONE),
        ("1708", TransferOutcome.REFUSED),
        ("1709", TransferOutcome.REFUSED),
        ("1718", TransferOutcome.UNKNOWN),
    ],
)
def test_transfer_outcomes(isms, wire, answer, outcome):
    wire.answer(answer)

    result = isms.backend.transfer("customer1", Decimal("50"), "T12")

    assert result.outcome == outcome
    assert wire.last.params == {
        "username": "User",
        "password": "Pass",
        "cust": "customer1",
        "credit": "50",
        "seqno": "T12",
    }


@pytest.mark.parametrize(
    ("status", "ours"),
    [
        ("6", DeliveryStatus.DELIVERED),
        ("7", DeliveryStatus.UNDELIVERED),
        ("8", DeliveryStatus.EXPIRED),
        ("9", DeliveryStatus.UNKNOWN),
        ("10", DeliveryStatus.REJECTED),
        ("11", DeliveryStatus.SUBMITTED),
        ("12", DeliveryStatus.UNDELIVERED),
        ("13", DeliveryStatus.UNDELIVERED),
        ("14", DeliveryStatus.UNDELIVERED),
        ("15", DeliveryStatus.SUBMITTED),
        ("16", DeliveryStatus.SUBMITTED),
        ("17", DeliveryStatus.UNDELIVERED),
    ],
)
def test_report_statuses_map_onto_ours(isms, status, ours):
    update = isms.backend.parse_delivery_report({"MsgId": "A1", "Status": status, "Sender": "1"})

    assert (update.status, update.provider_status, update.provider_message_id) == (
        ours,
        status,
        "A1",
    )


@pytest.mark.parametrize("params", [{}, {"MsgId": "A1"}, {"MsgId": "A1", "Status": "99"}])
def test_malformed_reports_are_protocol_errors(isms, params):
    with pytest.raises(ProtocolError):
        isms.backend.parse_delivery_report(params)


@pytest.mark.parametrize(
    ("content_type", "msg", "text"),
    [("1", "Hello", "Hello"), ("2", "06450631062D0628", "مرحب"), ("3", "D83DDE00", "😀")],
)
def test_incoming_sms_is_decoded(isms, content_type, msg, text):
    sms = isms.backend.parse_inbound(
        {"ShortCode": "63633", "Sender": "60123456789", "ContentType": content_type, "Msg": msg}
    )

    assert (sms.sender, sms.recipient, sms.text) == ("+60123456789", "63633", text)


@pytest.mark.parametrize("msg", ["XYZ", "004", "D83D"])
def test_bad_ucs2_hex_is_refused(isms, msg):
    with pytest.raises(ProtocolError):
        isms.backend.parse_inbound({"Sender": "60123456789", "ContentType": "2", "Msg": msg})


def test_end_to_end_with_seqno_repeat_and_transfer(sandbox, sandbox_account):
    account = sandbox_account("isms")
    # An account of its own at the sandbox: the demo account's balance is shared by the whole
    # worker, where another test's late request could be charged in between.
    sandbox.world.put_account("isms", "e2e-isms", "e2e-secret", credit=Decimal("10000"))
    account.username, account.password = "e2e-isms", "e2e-secret"
    account.save()
    sandbox.world.put_account("isms", "customer1", "x", credit=0)
    backend = account.backend

    # A number no other test sends to: the sandbox serves the whole worker, and a count of two
    # must mean this test's repeat got through, not another test's late request.
    only_here = [Recipient("+60123450718", "4711")]
    first = backend.send(OutgoingMessage("Hello 😀"), only_here).results[0]
    repeat = backend.send(OutgoingMessage("Hello 😀"), only_here).results[0]

    assert first.status == SubmitStatus.SUBMITTED and first.provider_message_id
    assert repeat.error_code == "1718"
    assert sandbox.world.counts[("isms", "60123450718")] == 1
    assert [m.text for m in sandbox.world.received if m.recipient == "60123450718"] == ["Hello 😀"]
    assert backend.balance().amount == Decimal("9999")
    assert backend.transfer("customer1", Decimal("25"), "T1").outcome == TransferOutcome.DONE
    assert backend.transfer("customer1", Decimal("25"), "T1").outcome == TransferOutcome.UNKNOWN
    assert backend.transfer("nobody", Decimal("25"), "T2").outcome == TransferOutcome.REFUSED
    assert sandbox.world.account("isms", "customer1").credit == Decimal("25")


def test_one_backend_sending_texts_in_turn_gives_each_its_own_type_and_body(isms, wire):
    # The backend keeps the last text's type and body (one text per batch): a new text, or
    # the same text as another kind, is worked out again.
    backend = isms.backend
    sends = [
        (OutgoingMessage("Hello"), "1", "Hello"),
        (OutgoingMessage("Hello"), "1", "Hello"),
        (OutgoingMessage("مرحبا"), "3", ucs2_hex("مرحبا")),
        (OutgoingMessage("Hello", type=MessageType.FLASH), "2", "Hello"),
        (OutgoingMessage("Hello"), "1", "Hello"),
    ]
    for message, _type, _body in sends:
        wire.answer("1701:ID")
        backend.send(message, ONE)

    assert [(r.params["type"], r.params["message"]) for r in wire.requests] == [
        (type_, body) for _message, type_, body in sends
    ]


def test_a_backend_decrypts_the_password_once_for_all_its_requests(isms, wire, monkeypatch):
    from smsportal.providers import crypto

    decrypted = []
    real = crypto.decrypt
    monkeypatch.setattr(crypto, "decrypt", lambda value: decrypted.append(1) or real(value))
    backend = isms.backend
    for n in range(3):
        wire.answer(f"1701:ID{n}")
        backend.send(OutgoingMessage("Hello"), [Recipient(f"+6012345678{n}", str(n))])

    assert [r.params["password"] for r in wire.requests] == ["Pass"] * 3
    assert len(decrypted) == 1
