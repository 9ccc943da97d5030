"""The HTTP choke point against a real server playing every fault, and the password never shows."""

from __future__ import annotations

import logging

import pytest

from smsportal.providers.backends import http
from smsportal.providers.backends.base import (
    AuthenticationError,
    InsufficientCredit,
    OutgoingMessage,
    ProtocolError,
    Recipient,
    TransientError,
)
from tests.support.postgres import free_port

pytestmark = pytest.mark.django_db

ONE = [Recipient("+60123456789", "1")]
PASSWORD = "demo-isms-pass"


@pytest.fixture
def isms(sandbox, sandbox_account):
    return sandbox_account("isms")


def fault(sandbox, **faults):
    sandbox.world.put_account("isms", "demo-isms", PASSWORD, faults=faults)


def send(account):
    return account.backend.send(OutgoingMessage("Hi"), ONE)


def test_a_refused_connection_was_certainly_not_sent(isms, caplog):
    isms.base_url = f"http://127.0.0.1:{free_port()}/websmsapi/"

    with pytest.raises(TransientError) as error:
        send(isms)

    assert error.value.request_sent is False


def test_a_timeout_may_have_been_sent(isms, sandbox, monkeypatch):
    monkeypatch.setattr(http, "call", _with_timeout(http.call, 0.3))
    fault(sandbox, delay=1.0)

    with pytest.raises(TransientError) as error:
        send(isms)

    assert error.value.request_sent is True


def _with_timeout(call, seconds):
    def wrapped(*args, **kwargs):
        kwargs["timeout"] = (1.0, seconds)
        return call(*args, **kwargs)

    return wrapped


def test_a_reset_connection_may_have_been_sent(isms, sandbox):
    fault(sandbox, reset=True)

    with pytest.raises(TransientError) as error:
        send(isms)

    assert error.value.request_sent is True


def test_a_500_is_transient(isms, sandbox):
    fault(sandbox, http_500=True)

    with pytest.raises(TransientError, match="HTTP 500"):
        send(isms)


def test_an_html_page_is_a_protocol_error(isms, sandbox):
    fault(sandbox, garbage=True)

    with pytest.raises(ProtocolError, match="web page"):
        send(isms)


def test_a_wrong_password_and_no_credit_are_refusals(isms, sandbox):
    fault(sandbox, wrong_password=True)
    with pytest.raises(AuthenticationError):
        send(isms)
    fault(sandbox, no_credit=True)
    with pytest.raises(InsufficientCredit):
        send(isms)


@pytest.mark.parametrize("faults", [{"reset": True}, {"http_500": True}, {"garbage": True}])
def test_no_failure_shows_the_password_in_logs_or_errors(isms, sandbox, caplog, faults):
    caplog.set_level(logging.DEBUG)
    fault(sandbox, **faults)

    with pytest.raises(Exception) as error:
        send(isms)

    assert PASSWORD not in str(error.value)
    assert PASSWORD not in getattr(error.value, "provider_text", "")
    assert PASSWORD not in caplog.text


def test_the_session_is_pooled_per_account(isms):
    assert http.session_for(isms) is http.session_for(isms)
    assert http.session_for(isms).headers["User-Agent"].startswith("SMS-Portal/")


def test_a_provider_echoing_the_password_is_scrubbed():
    assert http.redact("bad password s3cret for user", "s3cret") == "bad password ******** for user"


def test_an_answer_in_no_known_format_is_never_shown_to_staff(isms, caplog):
    # Not HTML, and no provider's format either (a captive portal's plain text, a wrong base
    # URL's JSON): staff learn its size, never its words, not even an excerpt (issue 15); the
    # log keeps a short excerpt without the password for whoever diagnoses it.
    caplog.set_level(logging.WARNING)
    body = f'{{"session": "abc123", "hint": "{PASSWORD}", "note": "internal build 7"}}'

    error = http.unexpected(isms, "send", body)

    assert isinstance(error, ProtocolError) and error.code == "unexpected"
    assert f"({len(body)} characters, not shown)" in str(error)
    assert "abc123" not in str(error) and "internal build" not in str(error)
    assert not error.provider_text
    assert "abc123" in caplog.text and PASSWORD not in caplog.text
