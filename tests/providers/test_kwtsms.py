from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smsportal.providers.backends.base import (
    OutgoingMessage,
    ProtocolError,
    ProviderError,
    Recipient,
    SubmitStatus,
)
from tests.factories import ProviderAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def kwt(db):
    return ProviderAccountFactory(kind="kwtsms", username="myuser", password="mypass")


def recipients(n):
    return [Recipient(f"+9659711{i:04d}", str(i)) for i in range(n)]


def test_send_puts_every_parameter_on_the_wire(kwt, wire):
    wire.answer("OK:f4c841adee210f31307633ceaebff2ec:2:2:180:1242667894")

    result = kwt.backend.send(OutgoingMessage("Hello there", sender="KWT-MESSAGE"), recipients(2))

    request = wire.last
    assert request.method == "GET"
    assert request.url == "http://www.kwtsms.com/API/send/"
    assert request.params == {
        "username": "myuser",
        "password": "mypass",
        "sender": "KWT-MESSAGE",
        "mobile": "96597110000,96597110001",
        "lang": "1",
        "message": "Hello there",
    }
    assert [r.status for r in result.results] == [SubmitStatus.SUBMITTED] * 2
    assert result.results[0].provider_message_id == "f4c841adee210f31307633ceaebff2ec"
    assert result.balance_after.amount == Decimal("180")


@pytest.mark.parametrize(
    ("options", "lang", "message"),
    [
        ({}, "3", "عربي تجربة"),
        ({"arabic_lang": "4"}, "4", "عربي تجربة"),
        ({"arabic_lang": "2"}, "2", "عربي تجربة".encode("cp1256")),
        ({}, "3", "Smile 😀"),
    ],
)
def test_lang_follows_the_text_and_the_accounts_choice(kwt, wire, options, lang, message):
    kwt.options = options
    wire.answer("OK:x:1:1:180:1")
    text = message.decode("cp1256") if isinstance(message, bytes) else message

    kwt.backend.send(OutgoingMessage(text), recipients(1))

    assert (wire.last.params["lang"], wire.last.params["message"]) == (lang, message)


def test_it_refuses_more_than_200_numbers_per_call(kwt, wire):
    with pytest.raises(ValueError, match="200"):
        kwt.backend.send(OutgoingMessage("x"), recipients(201))
    assert kwt.backend.capabilities.bulk_size == 200


@pytest.mark.parametrize(
    "answer", ["ERR003:Wrong username or password", "ERR010:Insufficient balance"]
)
def test_an_err_answer_is_a_refusal_shown_verbatim(kwt, wire, answer):
    wire.answer(answer)

    with pytest.raises(ProviderError) as error:
        kwt.backend.send(OutgoingMessage("x"), recipients(1))

    assert answer in str(error.value)
    assert error.value.code == answer.split(":")[0]


@pytest.mark.parametrize("answer", ["<html>Error</html>", "OK", "OK:a:b", "Thanks!", ""])
def test_garbage_is_a_protocol_error_never_a_send(kwt, wire, answer):
    wire.answer(answer)

    with pytest.raises(ProtocolError):
        kwt.backend.send(OutgoingMessage("x"), recipients(1))


def test_fewer_numbers_accepted_than_sent_leaves_all_unknown(kwt, wire):
    wire.answer("OK:abc:1:1:180:1242667894")

    result = kwt.backend.send(OutgoingMessage("x"), recipients(2))

    assert [r.status for r in result.results] == [SubmitStatus.UNKNOWN] * 2


def test_balance_reads_current_and_purchased(kwt, wire):
    wire.answer("181/377")

    balance = kwt.backend.balance()

    assert (balance.amount, balance.purchased) == (Decimal("181"), Decimal("377"))
    assert wire.last.url == "http://www.kwtsms.com/API/balance/"


@pytest.mark.parametrize(
    ("answer", "ids"),
    [("KWT-MESSAGE", ["KWT-MESSAGE"]), ("A-ONE\nB-TWO", ["A-ONE", "B-TWO"]), ("A,B", ["A", "B"])],
)
def test_sender_ids_one_per_line_or_comma_separated(kwt, wire, answer, ids):
    wire.answer(answer)

    assert kwt.backend.sender_ids() == ids


def test_the_email_transport_writes_the_seeds_body_and_claims_no_confirmation(kwt, mailoutbox):
    kwt.options = {"transport": "smtp"}

    result = kwt.backend.send(OutgoingMessage("Meet me", sender="My Shop"), recipients(2))

    (mail,) = mailoutbox
    assert mail.to == ["sms@kwtsms.com"]
    assert mail.body.splitlines() == [
        "username:myuser",
        "password:mypass",
        "sender:My+Shop",
        "mobile:96597110000,96597110001",
        "lang:1",
        "text:Meet+me",
    ]
    assert all(not r.confirmed and r.status == SubmitStatus.SUBMITTED for r in result.results)


def test_end_to_end_against_the_sandbox(sandbox, sandbox_account):
    account = sandbox_account("kwtsms")
    backend = account.backend

    result = backend.send(OutgoingMessage("Hello 😀", sender="SMS-PORTAL"), recipients(3))

    assert [r.status for r in result.results] == [SubmitStatus.SUBMITTED] * 3
    assert result.balance_after.amount == Decimal("9997")
    assert backend.balance().amount == Decimal("9997")
    assert backend.sender_ids() == ["KWT-MESSAGE", "SMS-PORTAL"]
    assert sandbox.world.counts[("kwtsms", "96597110001")] == 1
    assert sandbox.world.received[0].text == "Hello 😀"


def test_arabic_in_windows_1256_arrives_intact(sandbox, sandbox_account):
    account = sandbox_account("kwtsms", options={"arabic_lang": "2"})

    account.backend.send(OutgoingMessage("عربي تجربة"), recipients(1))

    assert sandbox.world.received[0].text == "عربي تجربة"


def test_the_email_transport_reaches_the_sandbox_mailbox(sandbox, sandbox_account, settings):
    import time

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sandbox.smtp.port
    account = sandbox_account("kwtsms", options={"transport": "smtp"})

    account.backend.send(OutgoingMessage("By mail"), recipients(2))

    for _ in range(50):
        if len(sandbox.world.received) == 2:
            break
        time.sleep(0.05)
    assert [r.text for r in sandbox.world.received] == ["By mail", "By mail"]


def test_windows_1256_refuses_what_it_cannot_carry(kwt, wire):
    kwt.options = {"arabic_lang": "2"}

    with pytest.raises(ProviderError, match="Windows-1256, which cannot carry 😀"):
        kwt.backend.send(OutgoingMessage("Smile 😀"), recipients(1))
    assert wire.requests == []


# --- by email: the seed's one-line-per-field format -----------------------------------------


@pytest.mark.parametrize("text", ["Hi\nmobile:96512345678", "Hi\r\nthere", "Hi\u2028there"])
def test_a_line_break_can_never_start_a_new_field_by_mail(kwt, mailoutbox, text):
    kwt.options = {"transport": "smtp"}

    assert "line break" in kwt.backend.encoding_profile.refusal(text, "GSM-7")
    with pytest.raises(ProviderError, match="line break"):
        kwt.backend.send(OutgoingMessage(text), recipients(1))
    assert mailoutbox == []


def test_a_literal_plus_is_refused_by_mail_and_goes_as_2b_by_http(kwt, wire, mailoutbox):
    kwt.options = {"transport": "smtp"}
    with pytest.raises(ProviderError, match=r"reads every \+ as a space"):
        kwt.backend.send(OutgoingMessage("1+1=2"), recipients(1))
    assert mailoutbox == []

    kwt.options = {}
    wire.answer("OK:x:1:1:180:1")
    kwt.backend.send(OutgoingMessage("1+1=2"), recipients(1))
    assert "message=1%2B1%3D2" in wire.last_url


def test_a_sender_with_a_line_break_is_refused_by_mail(kwt, mailoutbox):
    kwt.options = {"transport": "smtp"}

    with pytest.raises(ProviderError, match="sender ID holds a line break"):
        kwt.backend.send(OutgoingMessage("Hi", sender="A\nlang:4"), recipients(1))
    assert mailoutbox == []


def test_the_seeds_mail_sample_goes_as_written(kwt, mailoutbox):
    kwt.options = {"transport": "smtp"}

    kwt.backend.send(OutgoingMessage("Meet me at starbuck!", sender="SenderID"), recipients(1))

    raw = mailoutbox[0].message().as_bytes()
    assert b"text:Meet+me+at+starbuck!" in raw
    assert b'charset="utf-8"' in raw


def test_lang_2_by_mail_is_windows_1256_on_the_wire(kwt, mailoutbox):
    kwt.options = {"transport": "smtp", "arabic_lang": "2"}

    kwt.backend.send(OutgoingMessage("عربي تجربة"), recipients(1))

    raw = mailoutbox[0].message().as_bytes()
    assert b'charset="windows-1256"' in raw
    assert b"Content-Transfer-Encoding: 8bit" in raw
    assert b"lang:2\ntext:" + "عربي+تجربة".encode("cp1256") in raw.replace(b"\r\n", b"\n")
    assert "عربي".encode() not in raw  # no UTF-8 under a Windows-1256 label


def test_lang_2_refuses_before_sending_what_windows_1256_cannot_carry(kwt, mailoutbox):
    kwt.options = {"transport": "smtp", "arabic_lang": "2"}

    with pytest.raises(ProviderError, match="cannot carry 😀"):
        kwt.backend.send(OutgoingMessage("عربي 😀"), recipients(1))
    assert mailoutbox == []


def test_a_very_long_line_goes_quoted_printable(kwt, mailoutbox):
    kwt.options = {"transport": "smtp"}

    kwt.backend.send(OutgoingMessage("ع" * 600), recipients(1))

    raw = mailoutbox[0].message().as_bytes()
    assert b"Content-Transfer-Encoding: quoted-printable" in raw
    assert mailoutbox[0].message().get_payload(decode=True).decode().endswith("ع" * 600)


def test_the_accounts_own_mail_server_with_starttls(kwt):
    from smsportal.providers.backends.base import Backend

    submitted = {
        "transport": "smtp",
        "smtp_host": "mail.example.com",
        "smtp_port": "2587",
        "smtp_username": "relay",
        "smtp_password": "relay-pass",
        "smtp_security": "starttls",
    }
    fields = kwt.backend_class.settings_fields()
    cleaned = {name: fields[name].clean(value) for name, value in submitted.items()}
    kwt.options = kwt.backend.options_from_form(cleaned)
    assert kwt.options["smtp_password"] != "relay-pass"  # stored encrypted
    assert issubclass(kwt.backend_class, Backend)

    connection = kwt.backend.mail_connection()

    assert (connection.host, connection.port) == ("mail.example.com", 2587)
    assert (connection.username, connection.password) == ("relay", "relay-pass")
    assert (connection.use_tls, connection.use_ssl) == (True, False)
    # Saved again with the password box left empty: the stored one stays.
    again = kwt.backend.options_from_form({**cleaned, "smtp_password": ""}, kwt.options)
    assert again["smtp_password"] == kwt.options["smtp_password"]


def test_without_a_mail_server_the_portals_email_url_is_used(kwt, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "relay.local", 25, True
    kwt.options = {"transport": "smtp"}

    connection = kwt.backend.mail_connection()

    assert (connection.host, connection.port, connection.use_tls) == ("relay.local", 25, True)


def test_the_accounts_mail_server_carries_lang_2_to_the_sandbox(sandbox, sandbox_account):
    import time

    account = sandbox_account(
        "kwtsms",
        options={
            "transport": "smtp",
            "arabic_lang": "2",
            "smtp_host": "127.0.0.1",
            "smtp_port": sandbox.smtp.port,
            "smtp_security": "none",
        },
    )

    account.backend.send(OutgoingMessage("عربي تجربة", sender="SMS PORTAL"), recipients(2))

    for _ in range(50):
        if len(sandbox.world.received) == 2:
            break
        time.sleep(0.05)
    assert [(r.text, r.sender) for r in sandbox.world.received] == [
        ("عربي تجربة", "SMS PORTAL")
    ] * 2


@pytest.mark.parametrize("lang_option", ["3", "2", "4"])
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(min_size=1, max_size=300), sender=st.sampled_from(["", "KWT-MESSAGE"]))
def test_no_text_can_start_a_new_field_in_the_mail(kwt, lang_option, text, sender):
    """Whatever the text, either it is refused before sending, or the mail has exactly the six
    fields of the seed and KwtSMS reads back exactly the text (spaces from its '+')."""
    kwt.options = {"transport": "smtp", "arabic_lang": lang_option}
    backend = kwt.backend
    outgoing = OutgoingMessage(text, sender=sender)
    try:
        backend.check_before_send(outgoing, recipients(1))
    except ProviderError:
        return
    lang = backend.lang_for(text)

    mail = backend.mail(outgoing, "96597110000", lang).message()

    body = mail.get_payload(decode=True).decode(mail.get_content_charset())
    lines = body.split("\n")
    assert [line.partition(":")[0] for line in lines] == [
        "username",
        "password",
        "sender",
        "mobile",
        "lang",
        "text",
    ]
    assert lines[3] == "mobile:96597110000"
    assert lines[5].partition(":")[2].replace("+", " ") == text
