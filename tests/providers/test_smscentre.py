"""SMS Centre over SMPP: encoding and parts, submits against the sandbox's SMPP server over a real
socket, every refusal and transport fault, the flood rules, receipts and incoming SMS, and the
listener that keeps a transceiver bound."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
import smpplib.consts as c
from django.utils import timezone

from smsportal.messaging import dispatch
from smsportal.messaging.encoding import analyse
from smsportal.messaging.models import Delivery, InboundMessage, Message, UnmatchedReport
from smsportal.messaging.sending import ResolvedRecipients, SendRefused, create_message
from smsportal.messaging.status import DeliveryStatus
from smsportal.providers.backends import smscentre
from smsportal.providers.backends.base import (
    AuthenticationError,
    FloodRefused,
    MessageType,
    OutgoingMessage,
    ProtocolError,
    Recipient,
    SubmitStatus,
    TransientError,
    UnsupportedOperation,
)
from smsportal.providers.backends.smscentre import concatenation_header, encode
from smsportal.providers.smpp_listener import ReceiptListener, Supervisor
from tests.support.postgres import free_port

LONG = "Meeting moved to 3pm. " * 12  # 264 GSM characters: two parts
ARABIC = "مرحبا بكم في بوابة الرسائل القصيرة، " * 3  # UCS-2, more than 70 units


def wait_for(condition, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


@pytest.fixture
def smsc(sandbox_account):
    return sandbox_account("smscentre")


def received(sandbox):
    return [(r.recipient, r.text, r.sender) for r in sandbox.world.received]


# --- encoding ---------------------------------------------------------------------------------


def test_gsm_text_goes_as_data_coding_0_in_septet_octets():
    encoded = encode("Hello {world}")
    assert encoded.data_coding == 0
    assert encoded.parts == ["Hello {world}".encode("gsm03.38")]
    assert encoded.parts[0].count(b"\x1b") == 2  # the extension characters' escapes


def test_long_text_is_cut_where_the_preview_cut_it():
    encoded = encode(LONG)
    assert encoded.data_coding == 0
    assert [len(p) for p in encoded.parts] == [153, len(LONG) - 153]


def test_unicode_text_goes_as_ucs2_big_endian_data_coding_8():
    encoded = encode(ARABIC)
    assert encoded.data_coding == 8
    assert b"".join(encoded.parts).decode("utf-16-be") == ARABIC
    assert all(len(p) <= 67 * 2 for p in encoded.parts)


def test_iso_system_type_sends_latin_text_gsm_lacks_as_data_coding_4():
    assert encode("Crêpe © ®", "ISO") == smscentre.Encoded(4, ["Crêpe © ®".encode("latin-1")])
    long = encode("ê" * 200, "ISO")
    assert [len(p) for p in long.parts] == [134, 66]
    # Without system_type ISO the same text goes as UCS-2, 70 characters per SMS.
    assert encode("Crêpe © ®").data_coding == 8
    # The euro sign is GSM but not Latin-1: it stays GSM-7.
    assert encode("10 €", "ISO").data_coding == 0


@pytest.mark.parametrize("text", ["a" * 150, "Café crème", "é" * 200, "Hello {world}"])
def test_iso_system_type_never_makes_gsm_text_dearer(text):
    """150 plain letters are one SMS in GSM-7 (160), but were sent as two 8-bit parts (140)."""
    iso, plain = encode(text, "ISO"), encode(text)

    assert iso == plain
    assert iso.data_coding == 0
    assert len(iso.parts) == analyse(text, smscentre.profile_for("ISO")).segments


def test_iso_picks_the_alphabet_with_fewer_parts():
    # 100 braces: 200 septets in GSM-7 (2 parts), 100 octets in Latin-1 (1 part).
    assert encode("{" * 100, "ISO").data_coding == 4
    assert len(encode("{" * 100, "ISO").parts) == 1


def test_the_concatenation_header_is_the_8_bit_reference_udh():
    assert concatenation_header(0x1FF, 3, 2) == bytes([5, 0, 3, 0xFF, 3, 2])


# --- sending over SMPP --------------------------------------------------------------------------


def test_a_text_is_submitted_and_gets_the_smscs_message_id(smsc, sandbox):
    result = smsc.backend.send(
        OutgoingMessage("Hello from the portal", sender="PORTAL"),
        [Recipient("+96597119440", "1"), Recipient("+96597119441", "2")],
    )
    assert [r.status for r in result.results] == [SubmitStatus.SUBMITTED] * 2
    assert all(r.provider_message_id for r in result.results)
    assert received(sandbox) == [
        ("96597119440", "Hello from the portal", "PORTAL"),
        ("96597119441", "Hello from the portal", "PORTAL"),
    ]


@pytest.mark.parametrize("text", [LONG, ARABIC, "Emoji 🎉 " * 20])
def test_long_and_unicode_texts_arrive_whole(smsc, sandbox, text):
    (result,) = smsc.backend.send(OutgoingMessage(text), [Recipient("+96597119440", "7")]).results
    assert result.status == SubmitStatus.SUBMITTED
    assert result.segments == len(encode(text).parts) > 1
    assert received(sandbox) == [("96597119440", text, "")]
    assert sandbox.world.account("smscentre", "demo-smscentre").used == result.segments


@pytest.mark.parametrize(("text", "parts"), [("Crêpe © ® " * 10, 1), ("a" * 150, 1)])
def test_iso_texts_arrive_whole_in_the_parts_the_preview_counted(
    sandbox_account, sandbox, text, parts
):
    account = sandbox_account("smscentre", options={"system_type": "ISO"})

    (result,) = account.backend.send(
        OutgoingMessage(text), [Recipient("+96597119440", "8")]
    ).results

    assert result.status == SubmitStatus.SUBMITTED
    assert result.segments == parts == analyse(text, account.backend.encoding_profile).segments
    assert received(sandbox) == [("96597119440", text, "")]
    assert sandbox.world.account("smscentre", "demo-smscentre").used == parts


def test_a_wrong_password_is_an_authentication_error_and_never_logged(
    sandbox_account, sandbox, caplog
):
    account = sandbox_account("smscentre")
    account.password = "wrongpw1"
    account.save()
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthenticationError) as error:
        account.backend.send(OutgoingMessage("Hi"), [Recipient("+96597119440", "1")])
    assert "wrongpw1" not in caplog.text + str(error.value)
    assert sandbox.world.received == []


def test_no_server_means_certainly_not_sent(smsc):
    smsc.base_url = f"smpp://127.0.0.1:{free_port()}"
    with pytest.raises(TransientError) as error:
        smsc.backend.send(OutgoingMessage("Hi"), [Recipient("+96597119440", "1")])
    assert error.value.request_sent is False


def test_a_malformed_address_says_what_is_expected(smsc):
    smsc.base_url = "http://example.com/"
    with pytest.raises(Exception, match="smpp://host:port"):
        smsc.backend.send(OutgoingMessage("Hi"), [Recipient("+96597119440", "1")])


def fault(sandbox, **faults):
    sandbox.world.put_account("smscentre", "demo-smscentre", "demo-smc", faults=faults)


RECIPIENTS = [Recipient(f"+9659711944{i}", str(i + 1)) for i in range(3)]


@pytest.mark.parametrize(
    ("faults", "status", "code"),
    [
        ({"no_credit": True}, SubmitStatus.FAILED, hex(c.SMPP_ESME_RSUBMITFAIL)),
        ({"http_500": True}, SubmitStatus.FAILED, hex(c.SMPP_ESME_RSYSERR)),
    ],
)
def test_a_refused_submit_fails_that_recipient_with_a_sentence(smsc, sandbox, faults, status, code):
    fault(sandbox, **faults)
    results = smsc.backend.send(OutgoingMessage("Hi"), RECIPIENTS).results
    assert {(r.status, r.error_code) for r in results} == {(status, code)}
    assert all(r.error_text.startswith("SMS Centre") for r in results)


def test_invalid_numbers_fail_alone(smsc, sandbox):
    fault(sandbox, invalid_fraction=0.5)
    many = [Recipient(f"+96597{i:06d}", str(i + 1)) for i in range(20)]
    results = smsc.backend.send(OutgoingMessage("Hi"), many).results
    failed = [r for r in results if r.status == SubmitStatus.FAILED]
    assert failed and len(failed) < 20
    assert {r.error_text for r in failed} == {"SMS Centre says the number is invalid."}
    assert len(sandbox.world.received) == 20 - len(failed)


@pytest.mark.parametrize("kind", ["timeout", "reset", "garbage"])
def test_a_broken_session_makes_the_recipient_on_the_wire_unknown_and_the_rest_not_sent(
    smsc, sandbox, monkeypatch, kind
):
    monkeypatch.setattr(smscentre, "TIMEOUT", 0.3)
    fault(sandbox, **{kind: True})
    results = smsc.backend.send(OutgoingMessage("Hi"), RECIPIENTS).results
    assert [r.status for r in results] == [
        SubmitStatus.UNKNOWN,
        SubmitStatus.FAILED,
        SubmitStatus.FAILED,
    ]
    assert results[0].error_text.startswith("Outcome unknown")
    assert results[1].error_text.startswith("Not sent")
    assert sandbox.world.received == []


def test_the_sandbox_refuses_an_identical_request_within_a_minute(smsc, sandbox):
    backend = smsc.backend
    backend.send(OutgoingMessage("Same text"), [Recipient("+96597119440", "1")])
    (again,) = backend.send(OutgoingMessage("Same text"), [Recipient("+96597119440", "2")]).results
    assert again.status == SubmitStatus.FAILED
    assert again.error_code == hex(c.SMPP_ESME_RTHROTTLED)
    assert len(sandbox.world.received) == 1


def test_barcodes_are_not_supported(smsc):
    with pytest.raises(UnsupportedOperation, match="SMS Centre"):
        smsc.backend.check_before_send(
            OutgoingMessage("x", type=MessageType.BARCODE), [Recipient("+96597119440")]
        )


# --- the flood rules, checked before anything is sent ------------------------------------------


def history(account, phone: str, body: str, ages: list[float]) -> None:
    """Deliveries to `phone` that were queued `ages` seconds ago."""
    now = timezone.now()
    for age in ages:
        message = Message.objects.create(account=account, body=body, encoding="GSM-7", segments=1)
        delivery = Delivery.objects.create(
            message=message, account=account, phone=phone, status=DeliveryStatus.SUBMITTED
        )
        Delivery.objects.filter(pk=delivery.pk).update(queued_at=now - timedelta(seconds=age))


def test_the_same_text_to_the_same_number_within_a_minute_is_refused_before_sending(smsc):
    history(smsc, "+96597119440", "Your code is 1234", [20])
    with pytest.raises(FloodRefused, match=r"within a minute.*\+96597119440"):
        smsc.backend.check_before_send(
            OutgoingMessage("Your code is 1234"),
            [Recipient("+96597119441"), Recipient("+96597119440")],
        )
    # Another text, or the same text after a minute, is fine.
    smsc.backend.check_before_send(
        OutgoingMessage("Your code is 9999"), [Recipient("+96597119440")]
    )
    Delivery.objects.update(queued_at=timezone.now() - timedelta(seconds=61))
    smsc.backend.check_before_send(
        OutgoingMessage("Your code is 1234"), [Recipient("+96597119440")]
    )


def test_more_than_fifty_to_one_number_less_than_30_seconds_apart_is_refused(smsc):
    history(smsc, "+96597119440", "tick", [i * 20 for i in range(50)])  # 50 in a run
    with pytest.raises(FloodRefused, match="50 messages to one number"):
        smsc.backend.check_before_send(OutgoingMessage("tock"), [Recipient("+96597119440")])


def test_a_break_of_30_seconds_ends_the_run(smsc):
    ages = [i * 20 for i in range(25)] + [25 * 20 + 40 + i * 20 for i in range(30)]
    history(smsc, "+96597119440", "tick", ages)  # 55 messages, but a 60 s break after 25
    smsc.backend.check_before_send(OutgoingMessage("tock"), [Recipient("+96597119440")])


def test_compose_refuses_a_flood_with_the_reason(smsc):
    history(smsc, "+96597119440", "Your code is 1234", [5])
    with pytest.raises(SendRefused, match="within a minute"):
        create_message(
            account=smsc,
            body="Your code is 1234",
            recipients=ResolvedRecipients(phones=["+96597119440"]),
        )


# --- receipts and incoming SMS ------------------------------------------------------------------


def pdu(**fields):
    defaults = {
        "short_message": b"",
        "source_addr": b"96597119440",
        "destination_addr": b"PORTAL",
        "esm_class": 0x04,
        "data_coding": 0,
        "receipted_message_id": None,
        "message_state": None,
    }
    return SimpleNamespace(**{**defaults, **fields})


RECEIPT_TEXT = (
    b"id:100123 sub:001 dlvrd:001 submit date:2611230101 done date:2611230102 "
    b"stat:%s err:000 text:Hello"
)


@pytest.mark.parametrize(
    ("stat", "status"),
    [
        (b"DELIVRD", DeliveryStatus.DELIVERED),
        (b"UNDELIV", DeliveryStatus.UNDELIVERED),
        (b"EXPIRED", DeliveryStatus.EXPIRED),
        (b"REJECTD", DeliveryStatus.REJECTED),
        (b"DELETED", DeliveryStatus.UNDELIVERED),
        (b"UNKNOWN", DeliveryStatus.UNKNOWN),
        (b"ACCEPTD", DeliveryStatus.SUBMITTED),
        (b"ENROUTE", DeliveryStatus.SUBMITTED),
    ],
)
def test_receipt_states_map_onto_ours(smsc, stat, status):
    update = smsc.backend.parse_delivery_receipt(pdu(short_message=RECEIPT_TEXT % stat))
    assert (update.provider_message_id, update.status, update.recipient) == (
        "100123",
        status,
        "+96597119440",
    )


def test_receipt_tlvs_win_over_the_text(smsc):
    update = smsc.backend.parse_delivery_receipt(
        pdu(short_message=RECEIPT_TEXT % b"DELIVRD", receipted_message_id=b"ABC", message_state=5)
    )
    assert (update.provider_message_id, update.status) == ("ABC", DeliveryStatus.UNDELIVERED)


def test_a_network_error_code_is_kept_in_the_description(smsc):
    text = RECEIPT_TEXT.replace(b"err:000", b"err:034") % b"UNDELIV"
    update = smsc.backend.parse_delivery_receipt(pdu(short_message=text))
    assert "034" in update.description


@pytest.mark.parametrize(
    "text", [b"", b"garbage", b"id: stat:DELIVRD", b"id:1 stat:SOMETHING", bytes(range(256))]
)
def test_an_unreadable_receipt_is_a_protocol_error(smsc, text):
    with pytest.raises(ProtocolError):
        smsc.backend.parse_delivery_receipt(pdu(short_message=text))


@pytest.mark.parametrize(
    ("data", "coding", "text"),
    [
        (b"STOP", 0, "STOP"),
        ("مرحبا".encode("utf-16-be"), 8, "مرحبا"),
        ("Café".encode("latin-1"), 4, "Café"),
    ],
)
def test_incoming_sms_is_decoded(smsc, data, coding, text):
    sms = smsc.backend.parse_inbound_pdu(pdu(esm_class=0, short_message=data, data_coding=coding))
    assert (sms.sender, sms.recipient, sms.text) == ("+96597119440", "PORTAL", text)


def test_undecodable_incoming_sms_is_a_protocol_error(smsc):
    with pytest.raises(ProtocolError):
        smsc.backend.parse_inbound_pdu(pdu(esm_class=0, short_message=b"\xd8\x00", data_coding=8))


# --- the listener, end to end -------------------------------------------------------------------


@pytest.fixture
def listening(smsc, sandbox):
    sandbox.smpp.receipt_delay = 0.05
    stop = threading.Event()
    listener = ReceiptListener(smsc, stop, min_backoff=0.05, max_backoff=0.2, enquire_every=0.5)
    thread = threading.Thread(target=listener.run, daemon=True)
    thread.start()
    wait_for(lambda: listener.binds)
    yield listener
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()


@pytest.mark.django_db(transaction=True)
def test_a_message_sent_through_dispatch_is_delivered_by_its_receipt(
    smsc, listening, sandbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = create_message(
            account=smsc,
            body=LONG,
            recipients=ResolvedRecipients(phones=["+96597119440", "+96597119441"]),
        )
    wait_for(
        lambda: (
            set(message.deliveries.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
        )
    )
    delivery = message.deliveries.first()
    assert delivery.events.filter(source="smpp", to_status="delivered").exists()
    assert [text for _, text, _ in received(sandbox)] == [LONG, LONG]
    dispatch.finish_if_settled(message.pk)


@pytest.mark.django_db(transaction=True)
def test_the_listener_binds_again_after_the_connection_drops(smsc, listening, sandbox):
    sandbox.smpp.drop_connections()
    wait_for(lambda: listening.binds >= 2)
    # The new session carries receipts: one for an id the portal does not know is kept aside.
    (result,) = smsc.backend.send(OutgoingMessage("Hi"), [Recipient("+96597119440", "1")]).results
    wait_for(
        lambda: UnmatchedReport.objects.filter(
            account=smsc, provider_message_id=result.provider_message_id, source="smpp"
        ).exists()
    )


@pytest.mark.django_db(transaction=True)
def test_an_incoming_sms_reaches_the_inbox(smsc, listening, sandbox):
    assert sandbox.smpp.incoming("demo-smscentre", "96597119440", "Hello portal")
    message = wait_for(lambda: InboundMessage.objects.filter(text="Hello portal").first())
    assert (message.account, message.sender) == (smsc, "+96597119440")


@pytest.mark.django_db(transaction=True)
def test_a_wrong_password_is_retried_with_back_off(sandbox_account, sandbox):
    account = sandbox_account("smscentre")
    account.password = "wrong"
    account.save()
    stop = threading.Event()
    listener = ReceiptListener(account, stop, min_backoff=0.05, max_backoff=0.1)
    thread = threading.Thread(target=listener.run, daemon=True)
    thread.start()
    wait_for(lambda: listener.last_error)
    assert "refused the system_id or password" in listener.last_error
    assert listener.binds == 0
    stop.set()
    thread.join(timeout=5)


@pytest.mark.django_db(transaction=True)
def test_the_supervisor_follows_accounts_being_added_and_deactivated(sandbox_account, sandbox):
    stop = threading.Event()
    supervisor = Supervisor(stop, min_backoff=0.05, max_backoff=0.1, enquire_every=0.3)
    first = sandbox_account("smscentre")
    supervisor.sync()
    assert set(supervisor.running) == {first.pk}
    wait_for(lambda: supervisor.running[first.pk][0].binds)
    first.is_active = False
    first.save()
    supervisor.sync()
    assert supervisor.running == {}
    stop.set()


@pytest.mark.django_db(transaction=True)
def test_stopping_a_listener_does_not_wait_for_the_link_check(smsc, sandbox):
    stop = threading.Event()
    listener = ReceiptListener(smsc, stop, enquire_every=30)
    thread = threading.Thread(target=listener.run, daemon=True)
    thread.start()
    wait_for(lambda: listener.binds)
    started = time.monotonic()
    stop.set()
    listener.close()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert time.monotonic() - started < 2
