"""SMS Centre over SMPP: encoding and parts, submits against the sandbox's SMPP server over a real
socket, every refusal and transport fault, the flood rules, receipts and incoming SMS, and the
listener that keeps a transceiver bound."""

from __future__ import annotations

import inspect
import logging
import threading
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
import smpplib.consts as c
from django.utils import timezone

from smsportal.messaging import dispatch, flood
from smsportal.messaging.delivery_reports.smpp_listener import ReceiptListener, Supervisor
from smsportal.messaging.models import Delivery, InboundMessage, Message, UnmatchedReport
from smsportal.messaging.parts import combined
from smsportal.messaging.sending import ResolvedRecipients, SendRefused
from smsportal.messaging.tasks import dispatch_message
from smsportal.providers.backends import smpp_link, smscentre
from smsportal.providers.backends.base import (
    AuthenticationError,
    FloodRefused,
    MessageType,
    OutgoingMessage,
    ProtocolError,
    ProviderError,
    Recipient,
    SubmitStatus,
    TransientError,
    UnsupportedOperation,
)
from smsportal.providers.backends.smscentre import concatenation_header, encode
from smsportal.sms.encoding import analyse
from smsportal.sms.status import DeliveryStatus
from tests.support.postgres import free_port
from tests.support.sending import create_message

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
    smsc.options = {"window": 1}  # stop-and-wait: one submit on the wire at a time
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


def test_a_peer_that_closes_the_connection_is_named_as_such_not_as_a_timeout(smsc, sandbox):
    smsc.options = {"window": 1}
    fault(sandbox, reset=True)
    results = smsc.backend.send(OutgoingMessage("Hi"), RECIPIENTS).results
    assert results[0].error_code == "closed"
    assert results[0].error_text == "Outcome unknown: SMS Centre closed the connection."
    assert results[1].error_text == "Not sent: SMS Centre closed the connection."
    assert "timeout" not in results[0].error_text + results[0].error_code


def test_a_silent_peer_is_a_timeout(smsc, sandbox, monkeypatch):
    monkeypatch.setattr(smscentre, "TIMEOUT", 0.3)
    fault(sandbox, timeout=True)
    (first, *_rest) = smsc.backend.send(OutgoingMessage("Hi"), RECIPIENTS).results
    assert first.error_code == "timeout"
    assert "did not answer the submit within 0.3 seconds" in first.error_text


def test_recipients_accepted_before_the_link_drops_keep_their_ids(smsc, sandbox):
    sandbox.smpp.hang_up_after = 2
    results = smsc.backend.send(OutgoingMessage("Hi"), RECIPIENTS).results
    assert [r.status for r in results] == [
        SubmitStatus.SUBMITTED,
        SubmitStatus.SUBMITTED,
        SubmitStatus.UNKNOWN,
    ]
    ids = [r.message_id for r in sandbox.world.received]
    assert [r.provider_message_id for r in results[:2]] == ids
    assert "closed the connection" in results[2].error_text


def test_parts_accepted_before_the_link_drops_keep_their_ids(smsc, sandbox):
    sandbox.smpp.hang_up_after = 1  # the first part of the long text is accepted, then nothing
    (result,) = smsc.backend.send(OutgoingMessage(LONG), [Recipient("+96597119440", "7")]).results
    answers = [p for p in sandbox.smpp.wire if p.command == "submit_sm_resp"]
    assert len(answers) == 1
    assert result.status == SubmitStatus.UNKNOWN
    assert result.provider_message_id  # the accepted part's id, so its receipt finds it
    assert result.part_ids == (result.provider_message_id,)
    assert result.error_text == "Outcome unknown: SMS Centre closed the connection."


@pytest.mark.django_db(transaction=True)
# With no delay the receipt overtakes the batch's write of the part's id, as a fast SMSC's may.
@pytest.mark.parametrize("receipt_delay", [0.05, 0])
def test_a_delivery_cut_off_half_way_is_unknown_and_its_parts_receipts_still_match(
    smsc, listening, sandbox, django_capture_on_commit_callbacks, receipt_delay
):
    sandbox.smpp.receipt_delay = receipt_delay
    sandbox.smpp.hang_up_after = 1
    with django_capture_on_commit_callbacks(execute=True):
        message = create_message(
            account=smsc, body=LONG, recipients=ResolvedRecipients(phones=["+96597119440"])
        )
    delivery = message.deliveries.get()
    assert delivery.status == DeliveryStatus.UNKNOWN
    assert delivery.provider_message_id
    part = wait_for(
        lambda: delivery.parts.filter(status=DeliveryStatus.DELIVERED).first(), timeout=5
    )
    assert (part.number, part.provider_message_id) == (1, delivery.provider_message_id)
    # The receipt may come before the batch has written the part's id (it is then kept and
    # applied once the id is written): either way, none is left unmatched.
    assert not UnmatchedReport.objects.filter(
        account=smsc, provider_message_id=part.provider_message_id, applied_at__isnull=True
    ).exists()
    delivery.refresh_from_db()
    # One part of two is known delivered: the whole is still not known to have arrived.
    assert delivery.status == DeliveryStatus.UNKNOWN


def test_a_refused_system_type_is_reported_as_such_not_as_a_bad_password(smsc, sandbox):
    smsc.options = {"system_type": "UTF8"}
    with pytest.raises(ProviderError) as error:
        smsc.backend.send(OutgoingMessage("Hi"), [Recipient("+96597119440", "1")])
    assert not isinstance(error.value, AuthenticationError)
    assert "system_type 'UTF8'" in str(error.value)
    assert "password" not in str(error.value)
    assert error.value.code == f"bind:{c.SMPP_ESME_RINVSYSTYP}"  # 0x53 in SMPP 3.4
    (answer,) = [p for p in sandbox.smpp.wire if p.command == "bind_transceiver_resp"]
    assert answer.status == c.SMPP_ESME_RINVSYSTYP == 0x53
    assert sandbox.world.received == []


@pytest.mark.parametrize("system_type", ["ISO", ""])
def test_the_system_types_the_seed_allows_bind(smsc, sandbox, system_type):
    smsc.options = {"system_type": system_type}
    (result,) = smsc.backend.send(OutgoingMessage("Café"), [Recipient("+96597119440", "1")]).results
    assert result.status == SubmitStatus.SUBMITTED


@pytest.mark.parametrize("kind", [MessageType.VOICE, MessageType.BARCODE])
def test_send_itself_refuses_a_type_sms_centre_cannot_carry(smsc, sandbox, kind):
    with pytest.raises(UnsupportedOperation, match=f"Sending {kind.value} messages"):
        smsc.backend.send(OutgoingMessage("0102", type=kind), [Recipient("+96597119440", "1")])
    assert sandbox.smpp.commands() == []  # not even a bind


# --- one long-lived bind per worker process, with a window of submits (issue 17) ---------------


def many(n: int) -> list[Recipient]:
    return [Recipient(f"+96597{i:06d}", str(i + 1)) for i in range(n)]


def outstanding(wire) -> int:
    """The most submit_sm that were on the wire at once, unanswered."""
    most = waiting = 0
    for p in wire:
        if p.command == "submit_sm":
            waiting += 1
        elif p.command == "submit_sm_resp":
            waiting -= 1
        most = max(most, waiting)
    return most


def test_one_bind_serves_every_send_of_the_process(smsc, sandbox):
    for text in ("First", "Second", "Third"):
        results = smsc.backend.send(OutgoingMessage(text), RECIPIENTS).results
        assert {r.status for r in results} == {SubmitStatus.SUBMITTED}
    assert sandbox.smpp.commands().count("bind_transceiver") == 1
    assert "unbind" not in sandbox.smpp.commands()
    assert len(sandbox.world.received) == 9


def test_a_broken_link_is_bound_again_before_the_next_send(smsc, sandbox):
    smsc.backend.send(OutgoingMessage("First"), RECIPIENTS)
    sandbox.smpp.drop_connections()
    link = smpp_link._links[smpp_link.key_of(smsc.backend, smsc.backend.window)]
    wait_for(lambda: not link.usable)
    results = smsc.backend.send(OutgoingMessage("Second"), RECIPIENTS).results
    assert {r.status for r in results} == {SubmitStatus.SUBMITTED}
    assert sandbox.smpp.commands().count("bind_transceiver") == 2


@pytest.mark.parametrize("window", [None, 3, 1])
def test_up_to_the_window_of_submits_go_on_the_wire_before_the_first_answer(smsc, sandbox, window):
    if window:
        smsc.options = {"window": window}
    fault(sandbox, delay=0.01)  # each answer takes a moment, as over a real network
    results = smsc.backend.send(OutgoingMessage("Hi"), many(40)).results
    assert {r.status for r in results} == {SubmitStatus.SUBMITTED}
    most, allowed = outstanding(sandbox.smpp.wire), window or smscentre.WINDOW
    assert most <= allowed  # never more than the window...
    assert most > 1 if allowed > 1 else most == 1  # ...and more than one when it allows
    # Every answer found its own submit: the ids are the ones the SMSC recorded per number.
    recorded = {r.recipient: r.message_id for r in sandbox.world.received}
    assert {r.recipient.phone.lstrip("+"): r.provider_message_id for r in results} == recorded


def test_a_link_killed_with_submits_outstanding_leaves_each_submitted_with_its_id_or_unknown(
    smsc, sandbox
):
    fault(sandbox, delay=0.005)
    sandbox.smpp.hang_up_after = 15  # answers 15 submits, then closes with others on the wire
    results = smsc.backend.send(OutgoingMessage("Hi"), many(40)).results
    recorded = {r.recipient: r.message_id for r in sandbox.world.received}
    by_status = {s: [r for r in results if r.status == s] for s in SubmitStatus}
    assert len(by_status[SubmitStatus.SUBMITTED]) == 15
    assert {
        r.recipient.phone.lstrip("+"): r.provider_message_id for r in by_status["submitted"]
    } == (recorded)
    unknown = by_status[SubmitStatus.UNKNOWN]
    assert 1 <= len(unknown) <= smscentre.WINDOW  # those on the wire when it broke
    assert all(
        r.error_text == "Outcome unknown: SMS Centre closed the connection." for r in unknown
    )
    not_sent = by_status[SubmitStatus.FAILED]
    assert all(r.error_code == "not-sent" for r in not_sent)
    assert len(results) == 40
    # Nothing reported sent that did not arrive; nothing reported not sent that did.
    assert not {r.recipient.phone.lstrip("+") for r in unknown + not_sent} & set(recorded)
    assert [r.status for r in results] == sorted(
        (r.status for r in results), key=["submitted", "unknown", "failed"].index
    )  # in order: answered, on the wire when it broke, never written


@pytest.mark.django_db(transaction=True)
def test_through_dispatch_a_killed_link_ends_each_delivery_submitted_with_its_id_or_unknown(
    smsc, sandbox, django_capture_on_commit_callbacks
):
    fault(sandbox, delay=0.005)
    sandbox.smpp.hang_up_after = 25
    phones = [f"+96597{i:06d}" for i in range(60)]
    with django_capture_on_commit_callbacks(execute=True):
        message = create_message(
            account=smsc, body="Hi", recipients=ResolvedRecipients(phones=phones)
        )
    rows = list(
        message.deliveries.values_list("phone", "status", "provider_message_id", "error_code")
    )
    recorded = {r.recipient: r.message_id for r in sandbox.world.received}
    for phone, status, message_id, code in rows:
        digits = phone.lstrip("+")
        if status in (DeliveryStatus.SUBMITTED, DeliveryStatus.DELIVERED):
            assert recorded[digits] == message_id
        elif status == DeliveryStatus.UNKNOWN:
            # On the wire when the link went. (Against an SMSC that resets the connection, an
            # unknown one may also have arrived, its answer lost: that is what unknown means.)
            assert code == "closed" and digits not in recorded
        else:
            assert (status, code) == (DeliveryStatus.FAILED, "not-sent")
            assert digits not in recorded
    assert len(recorded) == 25
    assert sum(1 for row in rows if row[1] == DeliveryStatus.UNKNOWN) >= 1


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
    """Deliveries to `phone` that went to the provider `ages` seconds ago."""
    now = timezone.now()
    for age in ages:
        message = Message.objects.create(account=account, body=body, encoding="GSM-7", segments=1)
        delivery = Delivery.objects.create(
            message=message, account=account, phone=phone, status=DeliveryStatus.SUBMITTED
        )
        at = now - timedelta(seconds=age)
        Delivery.objects.filter(pk=delivery.pk).update(queued_at=at, sending_at=at)


def test_the_backend_declares_its_flood_rules_and_imports_no_feature_app():
    rules = smscentre.SMSCentreBackend.capabilities.flood_rules
    assert (rules.identical_window, rules.subscriber_limit, rules.subscriber_gap) == (
        timedelta(seconds=60),
        50,
        timedelta(seconds=30),
    )
    source = inspect.getsource(smscentre)
    assert "messaging.models" not in source and "Delivery.objects" not in source


def test_the_same_text_to_the_same_number_within_a_minute_is_refused_before_sending(smsc):
    history(smsc, "+96597119440", "Your code is 1234", [20])
    with pytest.raises(FloodRefused, match=r"within a minute.*\+96597119440"):
        flood.check(smsc, "Your code is 1234", ["+96597119441", "+96597119440"])
    # Another text, or the same text after a minute, is fine.
    flood.check(smsc, "Your code is 9999", ["+96597119440"])
    old = timezone.now() - timedelta(seconds=61)
    Delivery.objects.update(queued_at=old, sending_at=old)
    flood.check(smsc, "Your code is 1234", ["+96597119440"])


def test_more_than_fifty_to_one_number_less_than_30_seconds_apart_is_refused(smsc):
    history(smsc, "+96597119440", "tick", [i * 20 for i in range(50)])  # 50 in a run
    with pytest.raises(FloodRefused, match="50 messages to one number"):
        flood.check(smsc, "tock", ["+96597119440"])


def test_a_break_of_30_seconds_ends_the_run(smsc):
    ages = [i * 20 for i in range(25)] + [25 * 20 + 40 + i * 20 for i in range(30)]
    history(smsc, "+96597119440", "tick", ages)  # 55 messages, but a 60 s break after 25
    flood.check(smsc, "tock", ["+96597119440"])


def test_compose_refuses_a_flood_with_the_reason(smsc):
    history(smsc, "+96597119440", "Your code is 1234", [5])
    with pytest.raises(SendRefused, match="within a minute"):
        create_message(
            account=smsc,
            body="Your code is 1234",
            recipients=ResolvedRecipients(phones=["+96597119440"]),
        )


def test_a_scheduled_message_that_would_flood_waits_and_says_why(
    smsc, sandbox, manager_client, django_capture_on_commit_callbacks
):
    when = timezone.now() + timedelta(minutes=5)
    message = create_message(
        account=smsc,
        body="Your code is 1234",
        recipients=ResolvedRecipients(phones=["+96597119440", "+96597119441"]),
        scheduled_for=when,
    )
    # Since it was written, the same text went to one of its numbers 20 seconds ago.
    history(smsc, "+96597119440", "Your code is 1234", [20])
    sent_at = Delivery.objects.exclude(message=message).get().sending_at

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert dispatch_message.call(message.pk, when.isoformat()) == 0

    message.refresh_from_db()
    assert message.status == Message.Status.SCHEDULED
    assert message.scheduled_for == sent_at + timedelta(seconds=61)
    assert "within a minute" in message.held_reason
    assert len(callbacks) == 1  # enqueued again for the new time
    assert sandbox.smpp.commands() == []  # nothing went to SMS Centre
    assert set(message.deliveries.values_list("status", flat=True)) == {"queued"}
    page = manager_client.get(message.get_absolute_url()).content.decode()
    assert "Held back until" in page and "within a minute" in page

    # When the rule no longer applies, it goes, and the note goes with it.
    old = timezone.now() - timedelta(seconds=61)
    Delivery.objects.exclude(message=message).update(queued_at=old, sending_at=old)
    with django_capture_on_commit_callbacks(execute=False):
        assert dispatch_message.call(message.pk, message.scheduled_for.isoformat()) == 1
    message.refresh_from_db()
    assert message.held_reason == ""
    assert message.status == Message.Status.DONE


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
        ),
        timeout=10,
    )
    delivery = message.deliveries.first()
    assert delivery.events.filter(source="smpp", to_status="delivered").exists()
    assert [text for _, text, _ in received(sandbox)] == [LONG, LONG]
    dispatch.finish_if_settled(message.pk)
    # A receipt came for every part, under that part's id, and each found its delivery.
    receipts = [p for p in sandbox.smpp.wire if p.command == "deliver_sm"]
    assert len(receipts) == 4
    assert delivery.parts.count() == 2
    assert set(delivery.parts.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
    # Each was stored and answered, on whichever session it came (the submitting link, bound
    # still, or the listener's).
    answers = wait_for(
        lambda: (
            [p for p in sandbox.smpp.wire if p.command == "deliver_sm_resp"][3:]
            and [p.status for p in sandbox.smpp.wire if p.command == "deliver_sm_resp"]
        )
    )
    assert answers == [0, 0, 0, 0]
    # A receipt may beat its batch's write on a busy machine: it is kept, then applied.
    assert not UnmatchedReport.objects.filter(account=smsc, applied_at__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_one_undelivered_part_makes_the_delivery_undelivered(
    smsc, listening, sandbox, django_capture_on_commit_callbacks
):
    sandbox.smpp.final_state = "UNDELIV"
    with django_capture_on_commit_callbacks(execute=True):
        message = create_message(
            account=smsc, body=LONG, recipients=ResolvedRecipients(phones=["+96597119440"])
        )
    delivery = message.deliveries.get()
    wait_for(lambda: delivery.parts.filter(status=DeliveryStatus.UNDELIVERED).count() == 2)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.UNDELIVERED
    assert delivery.events.filter(source="smpp", to_status="undelivered").count() == 1


@pytest.mark.parametrize(
    ("statuses", "total", "whole"),
    [
        (["delivered", "delivered"], 2, DeliveryStatus.DELIVERED),
        (["delivered", "submitted"], 2, None),  # the second part has not reported yet
        (["delivered"], 2, None),  # the second part's id is not known: never "delivered"
        (["delivered", "undelivered"], 2, DeliveryStatus.UNDELIVERED),
        (["submitted", "expired"], 2, DeliveryStatus.EXPIRED),  # at once, whatever the rest
        (["delivered", "unknown"], 2, DeliveryStatus.UNKNOWN),
        (["unknown", "submitted"], 2, None),
    ],
)
def test_a_delivery_follows_its_parts(statuses, total, whole):
    assert combined(statuses, total) == whole


@pytest.mark.django_db(transaction=True)
def test_a_receipt_on_the_session_that_submitted_is_stored_not_lost(
    smsc, sandbox, django_capture_on_commit_callbacks
):
    # Receipts come at once, and each submit takes a moment: they arrive while the submitting
    # session is still bound, between its submits.
    sandbox.smpp.receipt_delay = 0
    fault(sandbox, delay=0.05)
    with django_capture_on_commit_callbacks(execute=True):
        message = create_message(
            account=smsc,
            body="Hello",
            recipients=ResolvedRecipients(phones=[f"+9659711944{i}" for i in range(5)]),
        )
    (submitter,) = {p.session for p in sandbox.smpp.wire if p.command == "submit_sm"}
    receipts = [p for p in sandbox.smpp.wire if p.command == "deliver_sm"]
    answers = [p for p in sandbox.smpp.wire if p.command == "deliver_sm_resp"]
    assert receipts and all(p.session == submitter for p in receipts)
    # Each is answered "stored" (the last may cross our unbind and reach a closed session).
    assert answers and {p.status for p in answers} == {0}
    assert {p.sequence for p in answers} <= {p.sequence for p in receipts}
    # Each applied once our ids were written: the link's ingest thread stores the last ones
    # a moment after the send has returned.
    wait_for(
        lambda: message.deliveries.filter(status=DeliveryStatus.DELIVERED).count() == len(receipts)
    )


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
    assert not thread.is_alive()  # no bind attempt left to run into the next test


@pytest.mark.django_db(transaction=True)
def test_the_supervisor_follows_accounts_being_added_and_deactivated(sandbox_account, sandbox):
    stop = threading.Event()
    supervisor = Supervisor(stop, min_backoff=0.05, max_backoff=0.1, enquire_every=0.3)
    first = sandbox_account("smscentre")
    supervisor.sync()
    assert set(supervisor.running) == {first.pk}
    wait_for(lambda: supervisor.running[first.pk][0].binds)
    retired = supervisor.running[first.pk][2]
    first.is_active = False
    first.save()
    supervisor.sync()
    assert supervisor.running == {}
    assert supervisor.retiring == [retired]
    stop.set()
    # A stop waits for the retired listener's unbind too (else it would outlive the process,
    # or this test, and unbind in the middle of the next one).
    supervisor.shutdown()
    assert not retired.is_alive()
    wire = [(p.direction, p.command) for p in sandbox.smpp.wire]
    assert wire[-2:] == [("in", "unbind"), ("out", "unbind_resp")]


@pytest.mark.django_db(transaction=True)
def test_smpp_listen_unbinds_cleanly_on_stop(smsc, sandbox):
    stop = threading.Event()
    supervisor = Supervisor(stop, enquire_every=30)
    thread = threading.Thread(target=supervisor.run, kwargs={"every": 0.05}, daemon=True)
    thread.start()
    wait_for(lambda: smsc.pk in supervisor.running and supervisor.running[smsc.pk][0].binds)
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()
    wire = [(p.direction, p.command) for p in sandbox.smpp.wire]
    assert wire[-2:] == [("in", "unbind"), ("out", "unbind_resp")]


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
