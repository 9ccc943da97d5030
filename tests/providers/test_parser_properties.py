"""Whatever a provider answers, the portal either understands it or says clearly that it does not:
random bodies at the HTTP choke point, random receipts on the SMPP session and random webhook
parameters give a result or a ProviderError, never another exception, and never a success made
out of garbage."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smsportal.providers.backends.base import (
    OutgoingMessage,
    ProviderError,
    Recipient,
    SubmitStatus,
)
from smsportal.sms.phones import parse_phone
from tests.factories import ProviderAccountFactory

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
RECIPIENTS = [Recipient("+96597119440", "11"), Recipient("+96597119441", "12")]

# Bodies: anything at all, and things that look half right (a known prefix, then noise).
PREFIXES = ["OK", "OK:", "ERR:", "ERR", "1701", "1702:", "ID:", "ERR:LOGIN", "<html>", "200", "-1"]
bodies = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
    st.tuples(st.sampled_from(PREFIXES), st.text(max_size=60)).map("".join),
)

OPERATIONS = {
    "send": lambda b: b.send(OutgoingMessage("Hello", sender="PORTAL"), RECIPIENTS),
    "balance": lambda b: b.balance(),
    "sender_ids": lambda b: b.sender_ids(),
    "transfer": lambda b: b.transfer("customer1", Decimal("10"), "T1"),
    "delivery_status": lambda b: b.delivery_status("12345"),
    "recent_delivery_reports": lambda b: b.recent_delivery_reports(),
    "remote_lists": lambda b: b.remote_lists(),
    "create_remote_list": lambda b: b.create_remote_list("staff"),
    "add_to_remote_list": lambda b: b.add_to_remote_list("staff", "+96597119440"),
    "set_default_sender": lambda b: b.set_default_sender("1"),
}

# What each provider answers on success (docs/providers.md): a body that matches none of these must
# never come back as a submitted send.
SUCCESS_SHAPES = {
    "kwtsms": ("OK:",),
    "isms": ("1701", "1718"),
    "intellisoftware": ("ID:",),
    "kalasms": (),  # answers a bare message id: checked below by the id being the body's digits
}


@pytest.mark.parametrize("kind", ["kalasms", "kwtsms", "isms", "intellisoftware"])
@pytest.mark.parametrize("operation", sorted(OPERATIONS))
@FUZZ
@given(body=bodies)
def test_any_answer_is_understood_or_refused_clearly(wire, kind, operation, body):
    backend = ProviderAccountFactory.build(kind=kind, password="pw-never-shown").backend
    wire.answers[:] = [body] * 5
    try:
        result = OPERATIONS[operation](backend)
    except ProviderError as exc:
        assert str(exc)  # a sentence for staff
        assert "pw-never-shown" not in str(exc) + exc.provider_text
        return
    if operation == "send":
        assert len(result.results) == len(RECIPIENTS)
        submitted = [r for r in result.results if r.status == SubmitStatus.SUBMITTED]
        if submitted and SUCCESS_SHAPES[kind]:
            assert body.strip().startswith(SUCCESS_SHAPES[kind]) or "ID:" in body
        if submitted and kind == "kalasms":
            assert all(r.provider_message_id and r.provider_message_id in body for r in submitted)


def receipt_pdu(data: bytes, esm_class: int, coding: int):
    return SimpleNamespace(
        short_message=data,
        source_addr=b"96597119440",
        destination_addr=b"PORTAL",
        esm_class=esm_class,
        data_coding=coding,
        receipted_message_id=None,
        message_state=None,
    )


@FUZZ
@given(data=st.binary(max_size=200), coding=st.sampled_from([0, 4, 8, 3, 0x10]))
def test_any_smpp_receipt_or_incoming_sms_is_read_or_refused(data, coding):
    backend = ProviderAccountFactory.build(kind="smscentre").backend
    for esm_class, parse in (
        (0x04, backend.parse_delivery_receipt),
        (0, backend.parse_inbound_pdu),
    ):
        try:
            parse(receipt_pdu(data, esm_class, coding))
        except ProviderError as exc:
            assert str(exc)


params = st.dictionaries(
    st.sampled_from(["MsgId", "Status", "Sender", "ShortCode", "ContentType", "Msg", "x"]),
    st.text(max_size=40),
    max_size=6,
)


@FUZZ
@given(query=params)
def test_any_webhook_parameters_get_200_or_400_never_an_error(client, query):
    account = ProviderAccountFactory(kind="isms")
    for hook in ("dlr", "incoming"):
        response = client.get(f"/hooks/isms/{account.webhook_token}/{hook}", query)
        assert response.status_code in (200, 400)


@FUZZ
@given(text=st.text(max_size=40), region=st.sampled_from(["KW", "MY", "GB", "ZZ"]))
def test_any_text_parses_to_an_e164_number_or_a_reason(text, region):
    parsed = parse_phone(text, region)
    if parsed.valid:
        assert parsed.e164.startswith("+") and parsed.e164[1:].isdigit()
        assert not parsed.error
    else:
        assert parsed.error
