from __future__ import annotations

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
    TransientError,
)
from tests.factories import ProviderAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def intelli(db):
    return ProviderAccountFactory(
        kind="intellisoftware", username="MyUsername", password="MyPassword", max_parts=3
    )


def uk(n):
    return [Recipient(f"+4477101234{i:02d}", str(i)) for i in range(n)]


def test_the_request_carries_to_text_from_and_maxconcat(intelli, wire):
    wire.answer("ID:12345")

    result = intelli.backend.send(OutgoingMessage("x" * 200, sender="Shop"), uk(1))

    assert wire.last.method == "POST"
    assert wire.last.url == "https://www.intellisoftware.co.uk/smsgateway/sendmsg.aspx"
    assert wire.last.params == {
        "username": "MyUsername",
        "password": "MyPassword",
        "to": "447710123400",
        "text": "x" * 200,
        "maxconcat": "2",
        "type": "1",
        "from": "Shop",
    }
    assert result.results[0].provider_message_id == "12345"


def test_voice_sms_is_type_6(intelli, wire):
    wire.answer("ID:1")

    intelli.backend.send(OutgoingMessage("Hello", type=MessageType.VOICE), uk(1))

    assert wire.last.params["type"] == "6"


def test_it_refuses_a_text_longer_than_the_account_allows_before_sending(intelli, wire):
    with pytest.raises(InvalidContent, match="needs 4 parts"):
        intelli.backend.send(OutgoingMessage("x" * 600), uk(1))
    assert wire.requests == []


def test_several_recipients_are_matched_by_normalised_number(intelli, wire):
    wire.answer("447710123400,ID:77\n447710123401,ERR:INVALID_NUMBER")

    results = intelli.backend.send(OutgoingMessage("Hi"), uk(3)).results

    assert [r.status for r in results] == [
        SubmitStatus.SUBMITTED,
        SubmitStatus.FAILED,
        SubmitStatus.UNKNOWN,  # no line for the third: never claimed as sent
    ]
    assert results[0].provider_message_id == "77"
    assert results[1].error_code == "INVALID_NUMBER"


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("LOGIN_INVALID", AuthenticationError),
        ("INSUFFICIENT_CREDIT", InsufficientCredit),
        ("NO_TEXT", InvalidContent),
        ("INVALID_REQUEST", InvalidContent),
        ("GATEWAY_ERROR", TransientError),
        ("INTERNAL_ERROR", TransientError),
    ],
)
def test_a_single_error_line_refuses_the_whole_request(intelli, wire, code, error):
    wire.answer(f"ERR:{code}")

    with pytest.raises(error) as raised:
        intelli.backend.send(OutgoingMessage("Hi"), uk(2))
    assert raised.value.code == code


@pytest.mark.parametrize("answer", ["OK", "ID:", "447710123400,OK", "<html>x</html>"])
def test_garbage_is_a_protocol_error(intelli, wire, answer):
    wire.answer(answer)

    with pytest.raises(ProtocolError):
        intelli.backend.send(OutgoingMessage("Hi"), uk(2))


def test_end_to_end_against_the_sandbox_with_invalid_numbers(sandbox, sandbox_account):
    account = sandbox_account("intellisoftware")
    sandbox.world.put_account(
        "intellisoftware",
        "demo-intellisoftware",
        "demo-intellisoftware-pass",
        faults={"invalid_fraction": 0.5},
    )
    many = [Recipient(f"+44771012{i:04d}", str(i)) for i in range(40)]

    results = account.backend.send(OutgoingMessage("Hi"), many).results

    statuses = {r.status for r in results}
    assert statuses == {SubmitStatus.SUBMITTED, SubmitStatus.FAILED}
    sent = [r for r in results if r.status == SubmitStatus.SUBMITTED]
    assert len(sandbox.world.received) == len(sent)
