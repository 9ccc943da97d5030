"""The providers' webhooks: the secret token in their URL never reaches a log line, whatever the
answer (200, 400, 404, 405, 500); a NUL or an oversized request gets a clear answer, never a 500;
an incoming SMS is stored even when its text decodes to NUL or is far too long."""

from __future__ import annotations

import logging

import pytest

from smsportal.messaging.inbound import INBOUND_TEXT_MAX_CHARS
from smsportal.messaging.models import InboundMessage, UnmatchedReport
from tests.factories import ProviderAccountFactory
from tests.support.lean import RoutedClient

pytestmark = pytest.mark.django_db

ISMS_ADDRESS = "210.5.41.23"


@pytest.fixture
def isms(db):
    return ProviderAccountFactory(kind="isms")


class EveryRecord(logging.Handler):
    """Every record any logger emits, as the record's own message and as the portal's console
    handler would print it (its filters and format applied to a copy)."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.printed: list[str] = []
        self.console = next(h for h in logging.getLogger().handlers if h.name == "console")

    def emit(self, record):
        self.records.append(record)
        copy = logging.makeLogRecord(record.__dict__)
        if self.console.filter(copy):
            self.printed.append(self.console.format(copy))

    def text(self) -> str:
        messages = []
        for record in self.records:
            messages.append(record.getMessage())
            messages.append(record.exc_text or "")
        return "\n".join(messages + self.printed)


@pytest.fixture
def logged():
    """Attach to the root and to every logger that does not propagate (django.server...), with
    every level open, so nothing logged escapes the capture."""
    capture = EveryRecord()
    loggers = [logging.getLogger()] + [
        logging.getLogger(name)
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger) and not logger.propagate
    ]
    levels = [(logger, logger.level) for logger in loggers]
    for logger in loggers:
        logger.addHandler(capture)
        logger.setLevel(logging.DEBUG)
    logging.getLogger("django.request").setLevel(logging.DEBUG)
    yield capture
    for logger, level in levels:
        logger.removeHandler(capture)
        logger.setLevel(level)
    logging.getLogger("django.request").setLevel(logging.NOTSET)


def test_the_token_never_appears_in_a_log_line_whatever_the_answer(isms, logged, monkeypatch):
    token = isms.webhook_token
    # Routed as under gunicorn: the callbacks take the lean request path (tests/support/lean.py).
    client = RoutedClient(raise_request_exception=False, REMOTE_ADDR=ISMS_ADDRESS)
    answers = {}

    answers["200"] = client.get(f"/hooks/isms/{token}/dlr", {"MsgId": "M9", "Status": "6"})
    answers["400 malformed"] = client.get(f"/hooks/isms/{token}/dlr", {"MsgId": "M9"})
    answers["400 nul"] = client.get(f"/hooks/isms/{token}/dlr", {"MsgId": "M\x009", "Status": "6"})
    answers["400 wrong token"] = client.get(f"/hooks/isms/{token[:-1]}X/dlr", {"MsgId": "M9"})
    answers["404 path"] = client.get(f"/hooks/isms/{token}/nowhere")
    answers["404 nul"] = client.get(f"/hooks/isms/{token}%00/dlr")
    answers["404 long"] = client.get(f"/hooks/isms/{token * 3}/dlr")
    answers["405"] = client.put(f"/hooks/isms/{token}/dlr")

    def explode(self, params):
        # As a database error might: the failing value, the token, in the exception's text.
        raise RuntimeError(f"could not store report for /hooks/isms/{token}/dlr")

    monkeypatch.setattr(
        "smsportal.messaging.delivery_reports.webhooks.DeliveryReportWebhook.handle", explode
    )
    answers["500"] = client.get(f"/hooks/isms/{token}/dlr", {"MsgId": "M9", "Status": "6"})

    assert {name: r.status_code for name, r in answers.items()} == {
        "200": 200,
        "400 malformed": 400,
        "400 nul": 400,
        "400 wrong token": 400,
        "404 path": 404,
        "404 nul": 404,
        "404 long": 404,
        "405": 405,
        "500": 500,
    }
    text = logged.text()
    for marker in ("Not Found", "Bad Request", "Method Not Allowed", "Internal Server Error"):
        assert marker in text, f"nothing logged for {marker}: the capture missed it"
    assert "/hooks/isms/[redacted]/dlr" in text
    assert token not in text
    assert token[:16] not in text  # nor a recognisable part of it


def test_runservers_request_line_is_redacted_too(logged):
    token = "Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXg"
    logging.getLogger("django.server").info(
        '"%s" %s %s', f"GET /hooks/isms/{token}/incoming?Msg=hi HTTP/1.1", "200", "3"
    )

    assert '"GET /hooks/isms/[redacted]/incoming?Msg=hi HTTP/1.1" 200 3' in logged.text()
    assert token not in logged.text()


def test_a_nul_in_the_token_answers_404_on_every_database(client, isms):
    for path in (
        f"/hooks/isms/{isms.webhook_token}%00/dlr",
        "/hooks/isms/%00/incoming",
        f"/hooks/isms/ab%00{isms.webhook_token}/incoming",
    ):
        assert client.get(path, {"Sender": "96597119440", "Msg": "hi"}).status_code == 404
    assert not InboundMessage.objects.exists()


def incoming(client, account, **params):
    return client.post(
        f"/hooks/isms/{account.webhook_token}/incoming", params, REMOTE_ADDR=ISMS_ADDRESS
    )


def test_an_incoming_text_that_decodes_to_nul_is_stored_not_lost(client, isms):
    response = incoming(client, isms, Sender="96597119440", Msg="004800000069", ContentType="2")

    assert response.status_code == 200
    stored = InboundMessage.objects.get()
    assert stored.text == "H\ufffdi"  # the NUL became the replacement character
    assert not stored.text_truncated


def test_an_overlong_incoming_text_is_stored_cut_and_flagged(client, isms, manager_client):
    text = "A" * (INBOUND_TEXT_MAX_CHARS + 500)

    response = incoming(client, isms, Sender="96597119440", Msg=text)

    assert response.status_code == 200
    stored = InboundMessage.objects.get()
    assert stored.text == "A" * INBOUND_TEXT_MAX_CHARS
    assert stored.text_truncated
    assert len(stored.raw["Msg"]) <= 4 * INBOUND_TEXT_MAX_CHARS
    from smsportal.messaging.models import Conversation

    page = manager_client.get(Conversation.objects.get().get_absolute_url()).content.decode()
    assert "characters; the rest was not kept" in page


def test_a_text_of_exactly_the_limit_is_kept_whole(client, isms):
    incoming(client, isms, Sender="96597119440", Msg="B" * INBOUND_TEXT_MAX_CHARS)

    stored = InboundMessage.objects.get()
    assert len(stored.text) == INBOUND_TEXT_MAX_CHARS and not stored.text_truncated


def test_an_incoming_request_beyond_any_real_sms_is_refused_with_a_reason(client, isms):
    response = incoming(client, isms, Sender="96597119440", Msg="A" * 100_001)

    assert response.status_code == 400
    assert b"The request is too large: 100," in response.content
    assert not InboundMessage.objects.exists()


def test_an_oversized_delivery_report_is_refused_and_not_kept(client, isms):
    response = client.post(
        f"/hooks/isms/{isms.webhook_token}/dlr",
        {"MsgId": "unknown-id", "Status": "6", "Padding": "x" * 5_000},
        REMOTE_ADDR=ISMS_ADDRESS,
    )

    assert response.status_code == 400
    assert b"too large" in response.content
    assert not UnmatchedReport.objects.exists()


def test_a_report_for_an_unknown_id_within_the_cap_is_still_kept(client, isms):
    response = client.post(
        f"/hooks/isms/{isms.webhook_token}/dlr",
        {"MsgId": "unknown-id", "Status": "6", "Note": "x" * 3_000},
        REMOTE_ADDR=ISMS_ADDRESS,
    )

    assert response.status_code == 200
    assert UnmatchedReport.objects.get().provider_message_id == "unknown-id"


def test_a_webhook_url_in_any_other_log_line_is_redacted_when_printed(logged):
    # The sandbox logs a failed push with the callback URL; any module might do the same.
    token = "c2VjcmV0LXRva2VuLW9mLWFuLWlzbXMtYWNjb3VudA"
    url = f"http://127.0.0.1:8000/hooks/isms/{token}/dlr"
    logging.getLogger("smsportal.providers.sandbox.server").warning(
        "push to %s failed: %s", url, "ConnectionError"
    )

    assert logged.printed, "the console handler printed nothing"
    assert "push to http://127.0.0.1:8000/hooks/isms/[redacted]/dlr failed" in logged.printed[-1]
    assert all(token not in line for line in logged.printed)
