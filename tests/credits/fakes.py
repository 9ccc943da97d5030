"""A provider in memory, behind the real Backend interface, for senders and credits tests.

`install(monkeypatch)` makes every ProviderAccount speak to one FakeProvider, whatever its kind:
the patch is on the name `backend_class` that ProviderAccount.backend and .backend_class use, so
it also holds in live-server and worker threads of the same process.
"""

from __future__ import annotations

import threading
import time
from decimal import Decimal

from smsportal.providers.backends.base import (
    Backend,
    Balance,
    Capabilities,
    DuplicateRequest,
    ProviderError,
    TransferOutcome,
    TransferRefused,
    TransferResult,
)

ISMS_LIKE = Capabilities(balance=True, transfer=True)


class FakeProvider:
    """Holds the provider's state and records every call (thread-safe).

    Transfers behave like ISMS: a seqno seen before is refused with 1718 (DuplicateRequest);
    otherwise `transfer_error` is raised if set, else the credits move and 1707 is answered.
    `lose_answer` makes a transfer happen and then raises that error, as a timeout would.
    """

    def __init__(self) -> None:
        self.balance = Decimal("100")
        self.purchased: Decimal | None = None
        self.sender_list: list[str] = []
        self.default_choice: str | None = None
        self.balance_error: ProviderError | None = None
        self.sender_error: ProviderError | None = None
        self.transfer_error: Exception | None = None
        self.transfer_result: TransferResult | None = None
        self.lose_answer: Exception | None = None
        self.transfer_delay = 0.0
        self.seen_seqnos: set[str] = set()
        self.transfers: list[tuple[str, Decimal, str]] = []
        self.calls: list[str] = []
        self.lock = threading.Lock()
        self.backend_class = self._make_backend_class()

    def set_capabilities(self, **kwargs) -> None:
        self.backend_class.capabilities = Capabilities(**kwargs)

    def _make_backend_class(self) -> type[Backend]:
        provider = self

        class FakeBackend(Backend):
            kind = "fake"
            label = "Fake provider"
            default_base_url = "http://127.0.0.1:9/"
            capabilities = ISMS_LIKE

            def balance(self) -> Balance:
                provider.calls.append("balance")
                if provider.balance_error:
                    raise provider.balance_error
                return Balance(
                    amount=provider.balance, purchased=provider.purchased, raw=str(provider.balance)
                )

            def sender_ids(self) -> list[str]:
                provider.calls.append("sender_ids")
                if provider.sender_error:
                    raise provider.sender_error
                return list(provider.sender_list)

            def set_default_sender(self, choice: str) -> None:
                provider.calls.append(f"set_default_sender:{choice}")
                if provider.sender_error:
                    raise provider.sender_error
                provider.default_choice = choice

            def transfer(self, customer: str, amount: Decimal, reference: str) -> TransferResult:
                provider.calls.append("transfer")
                time.sleep(provider.transfer_delay)
                with provider.lock:
                    if reference in provider.seen_seqnos:
                        raise DuplicateRequest(
                            "The provider already received this request.",
                            code="1718",
                            provider_text="1718",
                        )
                    provider.seen_seqnos.add(reference)
                    if provider.transfer_error:
                        raise provider.transfer_error
                    if provider.transfer_result:
                        return provider.transfer_result
                    if amount > provider.balance:
                        raise TransferRefused(
                            "Invalid credit value.", code="1709", provider_text="1709"
                        )
                    provider.balance -= amount
                    provider.transfers.append((customer, amount, reference))
                if provider.lose_answer:
                    raise provider.lose_answer
                return TransferResult(TransferOutcome.DONE, "1707", "Credit transfer done.", "1707")

        return FakeBackend


def install(monkeypatch) -> FakeProvider:
    provider = FakeProvider()
    monkeypatch.setattr(
        "smsportal.providers.models.backend_class", lambda kind: provider.backend_class
    )
    return provider
