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
    Capabilities,
    OutgoingMessage,
    Recipient,
    SendResult,
    SubmitResult,
    SubmitStatus,
)
from tests.factories import ProviderAccountFactory


@dataclass
class Script:
    """What the fake provider does. `behaviour(call_number, recipients)` may raise or return a
    SendResult; by default every recipient is accepted with id `M<reference>`."""

    bulk_size: int = 200
    idempotent_retry: bool = False
    behaviour: Callable[[int, Sequence[Recipient]], SendResult | None] | None = None
    calls: list[list[str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def sent_to(self) -> list[str]:
        return [phone for call in self.calls for phone in call]


class FakeBackend(Backend):
    kind = "fake"
    label = "Fake"
    default_base_url = "http://fake.invalid/"
    script: Script

    @property
    def capabilities(self) -> Capabilities:  # type: ignore[override]
        return Capabilities(
            bulk_size=self.script.bulk_size, idempotent_retry=self.script.idempotent_retry
        )

    def send(self, message: OutgoingMessage, recipients: Sequence[Recipient]) -> SendResult:
        with self.script.lock:
            self.script.calls.append([r.phone for r in recipients])
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


@pytest.fixture
def script(monkeypatch) -> Script:
    script = Script()
    backend = type("ScriptedBackend", (FakeBackend,), {"script": script})
    monkeypatch.setattr("smsportal.providers.models.backend_class", lambda kind: backend)
    monkeypatch.setattr("smsportal.messaging.dispatch.RETRY_BACKOFF", 0)
    return script


@pytest.fixture
def account(db):
    return ProviderAccountFactory(kind="kwtsms", max_parts=5)
