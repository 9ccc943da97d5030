"""The sandbox's memory: provider accounts, what each received, and the faults to play.

Thread-safe (one lock); nothing here speaks a protocol. The servers in this package read and
change it; tests and benchmarks inspect it directly or through the control API.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from decimal import Decimal

PROVIDERS = ("kalasms", "kwtsms", "isms", "intellisoftware", "smscentre")
# ISMS customer accounts the demo ISMS account can transfer credits to (providers/demo.py offers
# them on the transfer form). They only receive: nobody logs in with them.
DEMO_ISMS_CUSTOMERS = ("demo-customer-1", "demo-customer-2")


def demo_password(provider: str) -> str:
    """The demo accounts' passwords; SMPP allows at most 8 characters."""
    return "demo-smc" if provider == "smscentre" else f"demo-{provider}-pass"


@dataclass
class Faults:
    """What an account's requests should run into (tests, demos and benchmarks)."""

    wrong_password: bool = False  # every request is refused as a bad login
    no_credit: bool = False  # every send is refused for credit
    invalid_fraction: float = 0.0  # this share of numbers (chosen by a hash) is invalid
    http_500: bool = False  # the server answers 500
    delay: float = 0.0  # seconds before answering
    timeout: bool = False  # never answers in time (sleeps 60 s)
    reset: bool = False  # closes the connection without an answer
    garbage: bool = False  # answers an HTML error page
    # A provider error every send answers (IntelliSoftware GATEWAY_ERROR or INTERNAL_ERROR,
    # ISMS 1703), to play the provider's own "try later".
    send_error: str = ""

    def is_invalid(self, number: str) -> bool:
        if self.invalid_fraction <= 0:
            return False
        digest = int(hashlib.sha256(number.encode()).hexdigest()[:8], 16)
        return (digest % 10_000) < self.invalid_fraction * 10_000


@dataclass
class Account:
    provider: str
    username: str
    password: str
    credit: Decimal = Decimal("10000")
    purchased: Decimal = Decimal("10000")
    used: Decimal = Decimal("0")
    sender_ids: list[str] = field(default_factory=list)
    lists: dict[str, list[str]] = field(default_factory=dict)
    default_sender_choice: str = "0"
    callback_url: str = ""  # ISMS pushes reports and incoming SMS under this URL
    dlr_status: str = "6"  # ISMS report Status pushed after a send; KalaSMS word via polling
    faults: Faults = field(default_factory=Faults)
    seqnos: dict[str, float] = field(default_factory=dict)

    def public(self) -> dict:
        data = asdict(self)
        data.pop("password")
        data.pop("seqnos")
        for key in ("credit", "purchased", "used"):
            data[key] = str(data[key])
        return data


@dataclass(frozen=True)
class Received:
    provider: str
    username: str
    recipient: str  # international digits, as the provider was given it
    text: str
    message_id: str
    sender: str = ""
    at: float = 0.0
    kind: str = "text"  # text, flash, unicode, binary, barcode, voice
    details: str = ""  # what a person reading the phone would see besides the text

    def public(self) -> dict:
        return asdict(self)


class World:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.accounts: dict[tuple[str, str], Account] = {}
        self.received: list[Received] = []
        self.counts: Counter[tuple[str, str]] = Counter()
        self.report_words: dict[tuple[str, str], str] = {}  # (username, id) -> KalaSMS word
        self.rejected_mail: list[str] = []
        self._ids = itertools.count(100_001)
        self.add_demo_accounts()

    def add_demo_accounts(self) -> None:
        for provider in PROVIDERS:
            self.put_account(provider, f"demo-{provider}", demo_password(provider))
        kwt = self.accounts[("kwtsms", "demo-kwtsms")]
        kwt.sender_ids = ["KWT-MESSAGE", "SMS-PORTAL"]
        for customer in DEMO_ISMS_CUSTOMERS:
            self.put_account("isms", customer, f"{customer}-pass", credit=0, purchased=0)

    def put_account(self, provider: str, username: str, password: str, **changes) -> Account:
        with self.lock:
            account = self.accounts.get((provider, username)) or Account(
                provider, username, password
            )
            account.password = password
            faults = changes.pop("faults", None)
            for key, value in changes.items():
                if key in ("credit", "purchased", "used"):
                    value = Decimal(str(value))
                setattr(account, key, value)
            if faults is not None:
                account.faults = Faults(**faults) if isinstance(faults, dict) else faults
            self.accounts[(provider, username)] = account
            return account

    def account(self, provider: str, username: str) -> Account | None:
        with self.lock:
            return self.accounts.get((provider, username))

    def authenticate(self, provider: str, username: str, password: str) -> Account | None:
        account = self.account(provider, username)
        if account is None or account.password != password or account.faults.wrong_password:
            return None
        return account

    def new_id(self) -> str:
        return str(next(self._ids))

    def charge(self, account: Account, amount: Decimal) -> bool:
        """Take `amount` credits if the account has them."""
        with self.lock:
            if account.faults.no_credit or account.credit < amount:
                return False
            account.credit -= amount
            account.used += amount
            return True

    def record(
        self,
        provider: str,
        username: str,
        recipient: str,
        text: str,
        sender: str = "",
        message_id: str = "",
        kind: str = "text",
        details: str = "",
    ) -> Received:
        with self.lock:
            message = Received(
                provider,
                username,
                recipient,
                text,
                message_id or self.new_id(),
                sender,
                time.time(),
                kind,
                details,
            )
            self.received.append(message)
            self.counts[(provider, recipient)] += 1
            return message

    def seen_seqno(self, account: Account, seqno: str) -> bool:
        """Whether `seqno` came in the last 24 hours; remembers it either way."""
        now = time.time()
        with self.lock:
            seen = now - account.seqnos.get(seqno, 0) < 86_400
            account.seqnos[seqno] = now
            return seen

    def reset(self) -> None:
        with self.lock:
            self.accounts.clear()
            self.received.clear()
            self.counts.clear()
            self.report_words.clear()
            self.rejected_mail.clear()
            self.add_demo_accounts()

    def duplicates(self) -> dict[str, int]:
        """Recipients that received more than one message (per provider)."""
        with self.lock:
            return {f"{p}:{r}": n for (p, r), n in self.counts.items() if n > 1}
