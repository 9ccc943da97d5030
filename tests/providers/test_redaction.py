"""The password is redacted from what is logged, stored or shown, never from what is parsed: the
documents' own sample passwords (KalaSMS `123456`, ISMS `1234`) are runs of digits that occur in
message ids, balances and counts."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smsportal.providers.backends import http
from smsportal.providers.backends.base import (
    OutgoingMessage,
    ProviderError,
    Recipient,
    SendResult,
    SubmitResult,
    SubmitStatus,
    redact_result,
)
from tests.factories import ProviderAccountFactory

pytestmark = pytest.mark.django_db

ONE = [Recipient("+96597119440", "11")]
NEVER = "pass-word-never-seen"  # no answer below contains it


def account(kind, password):
    return ProviderAccountFactory.build(kind=kind, username="user", password=password)


def test_kalasms_answer_holding_the_seeds_password_is_an_accepted_send(wire):
    kala = account("kalasms", "123456")
    wire.answer("1234567")

    (result,) = kala.backend.send(OutgoingMessage("hello"), ONE).results

    assert result.status == SubmitStatus.SUBMITTED
    assert result.provider_message_id == "1234567"


def test_isms_message_id_holding_the_seeds_password_is_kept_whole(wire):
    isms = account("isms", "1234")
    wire.answer("1701:123456")

    (result,) = isms.backend.send(OutgoingMessage("Test message"), ONE).results

    assert (result.status, result.provider_message_id) == (SubmitStatus.SUBMITTED, "123456")


def test_kwtsms_numeric_password_leaves_sends_and_balances_readable(wire):
    kwt = account("kwtsms", "18")
    wire.answer("OK:f4c841adee210f31307633ceaebff2ec:1:1:180:1242667894", "181/377")

    sent = kwt.backend.send(OutgoingMessage("Hi"), ONE)
    balance = kwt.backend.balance()

    assert sent.results[0].status == SubmitStatus.SUBMITTED
    assert sent.balance_after.amount == Decimal("180")
    assert (balance.amount, balance.purchased) == (Decimal("181"), Decimal("377"))
    assert "18" not in sent.raw and "18" not in balance.raw  # what is stored is redacted


@pytest.mark.parametrize(
    ("password", "echo"),
    [
        ("p!ss word", "p!ss word"),
        ("p!ss word", "p%21ss+word"),
        ("p!ss word", "p%21ss%20word"),
        ("a<b>&'c\"", "a&lt;b&gt;&amp;&#x27;c&quot;"),
        ("a<b>&'c\"", "a&lt;b&gt;&amp;&#39;c&#34;"),
        ("ü/é", "%c3%bc%2f%c3%a9"),
        ("***", "***"),
    ],
)
def test_an_echoed_password_is_redacted_in_every_form(wire, caplog, password, echo):
    kala = account("kalasms", password)
    wire.answer(f"Invalid password {echo} for user")

    with pytest.raises(ProviderError) as error:
        kala.backend.balance()
    wire.answer(f"Invalid password {echo} for user")
    (refused,) = kala.backend.send(OutgoingMessage("hello"), ONE).results

    for text in (str(error.value), error.value.provider_text, caplog.text, refused.error_text):
        assert echo not in text
        assert password not in text
    assert "Invalid password" in str(error.value)


def test_a_long_answer_is_cut_after_redaction_so_no_half_password_stays(wire):
    kala = account("kalasms", "secretpassword")
    wire.answer("x" * 190 + "secretpassword and more", "x" * 190 + "secretpassword and more")

    with pytest.raises(ProviderError) as error:
        kala.backend.balance()
    (refused,) = kala.backend.send(OutgoingMessage("hello"), ONE).results

    assert "secr" not in str(error.value)
    assert "secr" not in refused.error_text


# --- the property: parsing never depends on the password ------------------------------------

digits = st.integers(min_value=0, max_value=10**12).map(str)
passwords = st.one_of(
    digits.filter(bool),
    st.text(alphabet="0123456789abc!+ %&<>'\"*:/", min_size=1, max_size=12),
)
ANSWERS = {
    ("kalasms", "send"): digits,
    ("kalasms", "balance"): st.decimals(0, 10**6, places=2).map(str),
    ("isms", "send"): digits.map("1701:{}".format),
    ("isms", "balance"): st.tuples(digits, digits).map(",".join),
    ("kwtsms", "send"): st.tuples(st.text("0123456789abcdef", min_size=1), digits, digits).map(
        lambda t: f"OK:{t[0]}:1:{t[1]}:{t[2]}:1242667894"
    ),
    ("kwtsms", "balance"): st.tuples(digits, digits).map("/".join),
    ("intellisoftware", "send"): digits.map("ID:{}".format),
}
OPERATIONS = {
    "send": lambda b: b.send(OutgoingMessage("Hello"), ONE),
    "balance": lambda b: b.balance(),
}


def outcome(kind, operation, password, body, wire):
    """(what was parsed, every text kept for people) — or the error's texts."""
    wire.answers[:] = [body]
    backend = account(kind, password).backend
    try:
        result = OPERATIONS[operation](backend)
    except ProviderError as exc:
        return ("error", type(exc).__name__, exc.code), [str(exc), exc.provider_text]
    return parsed(result), texts(result)


def parsed(value):
    """The result without its texts for people: what the portal acts on."""
    if dataclasses.is_dataclass(value):
        return tuple(
            (f.name, parsed(getattr(value, f.name)))
            for f in dataclasses.fields(value)
            if f.name not in {"raw", "error_text", "text", "description"}
        )
    if isinstance(value, list):
        return tuple(parsed(v) for v in value)
    return value


def texts(value) -> list[str]:
    if dataclasses.is_dataclass(value):
        found = []
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if f.name in {"raw", "error_text", "text", "description"} and isinstance(item, str):
                found.append(item)
            else:
                found += texts(item)
        return found
    if isinstance(value, list):
        return [t for v in value for t in texts(v)]
    return []


@pytest.mark.parametrize(("kind", "operation"), sorted(ANSWERS))
@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_parsing_never_depends_on_the_password(wire, kind, operation, data):
    body = data.draw(ANSWERS[(kind, operation)], label="answer")
    password = data.draw(passwords, label="password")

    with_password, shown = outcome(kind, operation, password, body, wire)
    without, _ = outcome(kind, operation, NEVER, body, wire)

    assert with_password == without
    for text in shown:
        for form in http.secret_forms(password):
            assert form not in text


def test_a_result_without_text_is_returned_as_it_is_and_the_password_left_unread(monkeypatch):
    # A send's results mostly carry no text: nothing to copy, nothing to decrypt.
    isms = account("isms", "s3cret")
    backend = isms.backend
    results = [SubmitResult(Recipient("+60123456789", "1"), SubmitStatus.SUBMITTED, "ID1")]
    result = SendResult(results)
    monkeypatch.setattr(
        type(isms), "password", property(lambda self: pytest.fail("password decrypted"))
    )

    assert redact_result(result, backend.redactor()) is result


def test_results_with_nothing_to_hide_come_back_as_they_are_the_others_redacted():
    redact = http.redactor("s3cret!")
    clean = [
        SubmitResult(Recipient(f"+9655{i:07d}", str(i)), SubmitStatus.SUBMITTED, "id-1")
        for i in range(200)
    ]
    leaky = SubmitResult(
        Recipient("+96550000999", "999"), SubmitStatus.FAILED, error_text="bad pass s3cret!"
    )
    result = SendResult([*clean, leaky], raw="OK s3cret%21")

    redacted = redact_result(result, redact)

    assert all(new is old for new, old in zip(redacted.results, clean, strict=False))
    assert redacted.results[-1].error_text == "bad pass ********"
    assert redacted.results[-1].recipient is leaky.recipient
    assert "s3cret" not in redacted.raw
    assert result.raw == "OK s3cret%21"  # the provider's answer itself is not changed
