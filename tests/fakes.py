"""A scriptable backend standing in for a provider, so sending is tested without sockets.

Fixtures `script` (the fake provider's behaviour and what it received) and `account` (an account
whose backend is the fake) are registered in tests/conftest.py."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pytest

from smsportal.providers.backends.base import (
    Backend,
    Balance,
    Capabilities,
    InboundSMS,
    OutgoingMessage,
    ProtocolError,
    Recipient,
    SendResult,
    StatusUpdate,
    SubmitResult,
    SubmitStatus,
)
from smsportal.sms.status import DeliveryStatus
from tests.factories import ProviderAccountFactory


@dataclass
class Script:
    """What the fake provider does. `behaviour(call_number, recipients)` may raise or return a
    SendResult; by default every recipient is accepted with id `M<reference>`."""

    bulk_size: int = 200
    idempotent_retry: bool = False
    reports_poll: bool = False
    # provider id -> status word the provider reports when polled; `recent` for the bulk call
    poll_answers: dict[str, DeliveryStatus] = field(default_factory=dict)
    recent: list = field(default_factory=list)
    polled: list[str] = field(default_factory=list)
    balance: Balance | None = None  # what `balance()` answers; None: no balance enquiry
    behaviour: Callable[[int, Sequence[Recipient]], SendResult | None] | None = None
    calls: list[list[str]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)  # the text of each call, in order
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Lists kept at the provider (as KalaSMS keeps them): name -> numbers; None: no such feature.
    remote: dict[str, list[str]] | None = None

    def sent_to(self) -> list[str]:
        return [phone for call in self.calls for phone in call]


class _ScriptCapabilities:
    """Capabilities read from the script at each access, on the class as on an instance (the
    portal reads both `account.backend.capabilities` and `backend_class.capabilities`)."""

    def __get__(self, instance, owner) -> Capabilities:
        script = owner.script
        return Capabilities(
            bulk_size=script.bulk_size,
            idempotent_retry=script.idempotent_retry,
            reports_poll=script.reports_poll,
            balance=script.balance is not None,
            remote_lists=script.remote is not None,
        )


class FakeBackend(Backend):
    kind = "fake"
    label = "Fake"
    default_base_url = "http://fake.invalid/"
    script: Script

    capabilities = _ScriptCapabilities()  # type: ignore[assignment]

    def delivery_status(self, provider_message_id: str) -> StatusUpdate:
        self.script.polled.append(provider_message_id)
        status = self.script.poll_answers.get(provider_message_id, DeliveryStatus.SUBMITTED)
        return StatusUpdate(provider_message_id=provider_message_id, status=status)

    def balance(self) -> Balance:
        if self.script.balance is None:
            raise self.unsupported("Balance enquiry")
        return self.script.balance

    def recent_delivery_reports(self) -> list[StatusUpdate]:
        if not self.script.reports_poll:
            raise self.unsupported("Listing recent delivery reports")
        return list(self.script.recent)

    def send(self, message: OutgoingMessage, recipients: Sequence[Recipient]) -> SendResult:
        with self.script.lock:
            self.script.calls.append([r.phone for r in recipients])
            self.script.texts.append(message.text)
            number = len(self.script.calls)
        if self.script.behaviour:
            result = self.script.behaviour(number, recipients)
            if result is not None:
                return result
        return SendResult(
            [
                SubmitResult(r, SubmitStatus.SUBMITTED, provider_message_id=f"M{r.reference}")
                for r in recipients
            ]
        )

    def _lists(self) -> dict[str, list[str]]:
        if self.script.remote is None:
            raise self.unsupported("Remote lists")
        return self.script.remote

    def remote_lists(self) -> list[str]:
        return list(self._lists())

    def create_remote_list(self, name: str) -> None:
        self._lists().setdefault(name, [])

    def delete_remote_list(self, name: str) -> None:
        self._lists().pop(name, None)

    def add_to_remote_list(self, name: str, phone: str) -> None:
        self._lists()[name].append(phone)

    def send_to_remote_list(self, name: str, message: OutgoingMessage) -> SendResult:
        members = self._lists()[name]
        with self.script.lock:
            self.script.calls.append(list(members))
        whole = Recipient(phone=f"list:{name}", reference=name)
        return SendResult([SubmitResult(whole, SubmitStatus.SUBMITTED, provider_message_id="L1")])

    # A provider that pushes reports and incoming SMS the way ISMS does (simplified codes).
    REPORT_CODES = {"6": DeliveryStatus.DELIVERED, "7": DeliveryStatus.UNDELIVERED}

    def parse_delivery_report(self, params) -> StatusUpdate:
        code = params.get("Status", "")
        if not params.get("MsgId") or code not in self.REPORT_CODES:
            raise ProtocolError(f"Bad report: {dict(params)!r}")
        return StatusUpdate(
            provider_message_id=params["MsgId"],
            status=self.REPORT_CODES[code],
            provider_status=code,
            raw=dict(params),
        )

    def parse_inbound(self, params) -> InboundSMS:
        if not params.get("Sender"):
            raise ProtocolError("Sender missing")
        return InboundSMS(
            sender=params["Sender"],
            recipient=params.get("ShortCode", ""),
            text=params.get("Msg", ""),
            raw=dict(params),
        )


@pytest.fixture
def script(monkeypatch) -> Script:
    script = Script()
    backend = type("ScriptedBackend", (FakeBackend,), {"script": script})
    monkeypatch.setattr("smsportal.providers.models.backend_class", lambda kind: backend)
    monkeypatch.setattr("smsportal.messaging.dispatch.RETRY_BACKOFF", 0)
    return script


@pytest.fixture
def account(db, script):
    return ProviderAccountFactory(kind="kwtsms", max_parts=5)
