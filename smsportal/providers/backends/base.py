"""The interface every provider backend implements, and the objects it returns.

Views, tasks and models talk to providers only through `account.backend` and these types. A
backend module holds its provider's configuration, request building, response parsing and code
tables; the fixed pipeline and the shared plumbing live here and in `http.py`.

Results are objects, never counts: `send` returns one `SubmitResult` per recipient, and a failure
is never counted as a send. Errors carry retry intent (`ProviderError.permanent`) and whether the
request may already have reached the provider (`TransientError.request_sent`), which decides
between a safe retry and an honest `unknown`.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from django import forms

from smsportal.sms.encoding import STANDARD, EncodingProfile
from smsportal.sms.status import DeliveryStatus

if TYPE_CHECKING:
    from smsportal.providers.models import ProviderAccount


# --- errors -------------------------------------------------------------------------------------


class ProviderError(Exception):
    """A provider operation did not succeed. `str(error)` is a sentence for staff.

    `code` is the provider's own code (`1702`, `LOGIN_INVALID`, ...), `provider_text` its answer
    verbatim. Neither ever contains the account's password once it leaves a backend: `Backend`
    redacts both, then trims the text to `PROVIDER_TEXT_MAX` (trimming first could leave half a
    password behind).
    """

    permanent: ClassVar[bool] = True

    def __init__(self, message: str, *, code: str = "", provider_text: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.provider_text = provider_text


PROVIDER_TEXT_MAX = 500


class AuthenticationError(ProviderError):
    """The provider refused the username or password."""


class InsufficientCredit(ProviderError):
    """The account has not enough credit for the request."""


class InvalidRecipient(ProviderError):
    """A phone number the provider will not send to."""


class InvalidContent(ProviderError):
    """The message text, type or sender ID was refused."""


class DuplicateRequest(ProviderError):
    """The provider already received this request (e.g. ISMS 1718 for a repeated seqno)."""


class TransferRefused(ProviderError):
    """A credit transfer was refused (bad customer account, bad amount)."""


class FloodRefused(ProviderError):
    """Refused by the portal before submitting, because the provider would block it."""


class UnsupportedOperation(ProviderError):
    """The provider offers no such operation; the UI hides it by reading `capabilities`."""


class ProtocolError(ProviderError):
    """The answer was not in the provider's format (HTML page, empty body, unknown code).

    After a send, a garbled answer means we cannot know whether it went: the caller records
    `unknown`, never `submitted`.
    """


class TransientError(ProviderError):
    """A timeout, a dropped connection, a 5xx or a provider's own "try later".

    `request_sent` is False only when the request certainly never reached the provider (the
    connection was never made), which is the one case a retry cannot send twice.
    """

    permanent: ClassVar[bool] = False

    def __init__(self, message: str, *, request_sent: bool = True, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.request_sent = request_sent


# --- what goes out ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    """One destination of a send. `phone` is E.164 (`+96597119440`); the backend converts it.

    `reference` is the portal's own id for this delivery: ISMS sends it as `seqno`, which makes a
    repeat after a timeout safe; SMPP uses it to check the flood rules.
    """

    phone: str
    reference: str = ""


class MessageType(enum.StrEnum):
    TEXT = "text"
    FLASH = "flash"
    VOICE = "voice"  # IntelliSoftware type 6
    BINARY = "binary"  # ISMS type 5 (with UDH) / 6 (without)
    BARCODE = "barcode"  # ISMS ISendSMS2D


@dataclass(frozen=True)
class OutgoingMessage:
    """What to send, independent of recipients. The backend derives its own encoding parameters
    from `smsportal.sms.encoding.analyse(text, self.encoding_profile)`."""

    text: str
    sender: str = ""
    type: MessageType = MessageType.TEXT
    want_delivery_report: bool = True
    udh: bool = True  # binary only: whether `text` (hex) starts with a UDH
    barcode_format: str = ""  # ISMS 2D MsgType: EMS, Nokia, MMS, textmsg, textlink
    max_parts: int | None = None  # refuse a text needing more segments than this


# --- what comes back ----------------------------------------------------------------------------


class SubmitStatus(enum.StrEnum):
    SUBMITTED = "submitted"  # the provider accepted it for this recipient
    FAILED = "failed"  # the provider refused it for this recipient (error_code says why)
    UNKNOWN = "unknown"  # we cannot tell whether the provider took it


@dataclass(frozen=True)
class SubmitResult:
    recipient: Recipient
    status: SubmitStatus
    provider_message_id: str = ""
    error_code: str = ""
    error_text: str = ""
    segments: int | None = None  # as charged by the provider, when it says
    confirmed: bool = True  # False where the transport gives no answer at all (KwtSMS by mail)
    # SMPP: the id of every part of a long text, in order, when each part has its own (the
    # first is also `provider_message_id`). Receipts come per part; each must find its delivery.
    part_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Balance:
    amount: Decimal  # credits remaining
    purchased: Decimal | None = None  # KwtSMS: total ever purchased
    used: Decimal | None = None  # ISMS: credits used to date
    raw: str = ""


@dataclass(frozen=True)
class SendResult:
    """The outcome of one request (one batch): a result per recipient, in recipient order."""

    results: list[SubmitResult]
    balance_after: Balance | None = None  # KwtSMS reports the balance after a send
    raw: str = ""


@dataclass(frozen=True)
class StatusUpdate:
    """A normalised delivery report, from a push, a poll or an SMPP receipt."""

    provider_message_id: str
    status: DeliveryStatus
    provider_status: str = ""  # the provider's own code or word, verbatim
    description: str = ""  # a sentence for staff
    recipient: str = ""  # E.164 when the report says
    occurred_at: datetime | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class InboundSMS:
    """An incoming SMS the provider pushed to us."""

    sender: str  # E.164 where it parses, else as given
    recipient: str  # our short code or number
    text: str
    raw: Mapping[str, Any] = field(default_factory=dict)


class TransferOutcome(enum.StrEnum):
    DONE = "done"
    REFUSED = "refused"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class TransferResult:
    outcome: TransferOutcome
    code: str = ""
    text: str = ""  # a sentence for staff
    raw: str = ""


@dataclass(frozen=True)
class FloodRules:
    """Limits a provider puts on repeats, which the portal checks before it submits
    (`smsportal.messaging.flood`) rather than learning them from a refusal. A limit left at
    None does not apply."""

    identical_window: timedelta | None = None  # the same text to one number within this: refused
    subscriber_limit: int | None = None  # more than this many messages to one number...
    subscriber_gap: timedelta | None = None  # ...each less than this after the last: blocked


@dataclass(frozen=True)
class Capabilities:
    send: bool = True
    bulk_size: int = 1  # recipients per request
    # A send can name its sender ID. KalaSMS's sendsms has no such parameter: its messages go
    # from the account's default sender, chosen with `defaultsenderid` (`default_sender_choice`).
    sender_per_message: bool = True
    # Recipients per request when the message asks for no delivery report (ISMS ISendSMSNoDR);
    # 0: such a message goes like any other.
    bulk_size_without_reports: int = 0
    balance: bool = False
    sender_ids: bool = False
    default_sender_choice: bool = False  # KalaSMS defaultsenderid
    transfer: bool = False
    remote_lists: bool = False
    reports_push: bool = False  # the provider calls our webhook (ISMS)
    reports_poll: bool = False  # we ask (KalaSMS)
    reports_smpp: bool = False  # deliver_sm on a bound session (SMS Centre)
    inbound: bool = False
    flash: bool = False
    voice: bool = False
    unicode: bool = True
    binary: bool = False
    barcode: bool = False
    # A repeated send request cannot deliver twice (ISMS remembers `seqno` for 24 hours), so a
    # request whose fate is unknown may be sent again instead of being recorded as unknown.
    idempotent_retry: bool = False
    flood_rules: FloodRules | None = None
    # Each part of a long text has its own id and its own report (SMPP): the portal keeps
    # every part's id (`SubmitResult.part_ids`) and routes each report through its part.
    receipts_per_part: bool = False

    @property
    def delivery_reports(self) -> bool:
        return self.reports_push or self.reports_poll or self.reports_smpp


# --- the interface ------------------------------------------------------------------------------


# --- settings -----------------------------------------------------------------------------------


class SecretField(forms.CharField):
    """A backend setting that is a secret (an SMTP password). Rendered as an empty password box
    (any form treating a `PasswordInput` as a secret keeps the stored value when it is left
    empty), and cleaned to its Fernet ciphertext, so whatever form stores the cleaned value
    stores it encrypted, like the account's password. `Backend.secret_option` reads it back."""

    secret = True

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("strip", False)
        kwargs.setdefault(
            "widget",
            forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        )
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        from smsportal.providers import crypto

        value = super().clean(value)
        return crypto.encrypt(value) if value else ""


# --- redaction at the boundary ----------------------------------------------------------------

# The operations that talk to the provider with the account's credentials. Whatever they return
# or raise is redacted on the way out; parsing inside them sees the provider's raw answer. The
# parse_* methods read what a provider pushes to us (no password in it, and an incoming SMS
# must keep its digits), so they are not listed.
REDACTED_OPERATIONS = (
    "check_before_send",
    "send",
    "balance",
    "sender_ids",
    "set_default_sender",
    "transfer",
    "delivery_status",
    "recent_delivery_reports",
    "remote_lists",
    "create_remote_list",
    "delete_remote_list",
    "add_to_remote_list",
    "send_to_remote_list",
)
# Fields of the result objects that hold text for people (stored or shown). Identifiers such as
# `provider_message_id` are data: they stay exact, or a delivery report would never match.
_TEXT_FIELDS = {"raw", "error_text", "text", "description", "provider_text"}


@functools.cache
def _field_names(cls: type) -> tuple[str, ...] | None:
    """The field names of a dataclass type (None for any other type), looked up once a type."""
    if not dataclasses.is_dataclass(cls):
        return None
    return tuple(f.name for f in dataclasses.fields(cls))


def redact_result(value: Any, redact: Callable[[str], str]) -> Any:
    """`value` (a result object, a list of them, a mapping or a string) with `redact` applied to
    every text field, recursively. Identifiers and numbers are left as they are.

    A result object none of whose text had anything to hide is returned as it is (it is
    frozen): a KwtSMS answer carries 200 results, and copying each with its recipient was a
    third of the worker's sending threads' time."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [redact_result(item, redact) for item in value]
    if isinstance(value, Mapping):
        return {key: redact_result(item, redact) for key, item in value.items()}
    names = _field_names(type(value))
    if names is not None:
        changes = {}
        for name in names:
            item = getattr(value, name)
            if name in _TEXT_FIELDS or isinstance(item, list) or _field_names(type(item)):
                redacted = redact_result(item, redact)
                if redacted is not item and redacted != item:
                    changes[name] = redacted
        # Copied only where a text changed: a send's results mostly carry none.
        return dataclasses.replace(value, **changes) if changes else value
    return value


def redact_error(error: ProviderError, redact: Callable[[str], str]) -> ProviderError:
    error.args = tuple(redact(a) if isinstance(a, str) else a for a in error.args)
    error.provider_text = redact(error.provider_text)[:PROVIDER_TEXT_MAX]
    return error


def _redacting(operation: Callable) -> Callable:
    @functools.wraps(operation)
    def wrapper(self: Backend, *args: Any, **kwargs: Any) -> Any:
        try:
            result = operation(self, *args, **kwargs)
        except ProviderError as exc:
            redact_error(exc, self.redact)
            raise
        return redact_result(result, self.redactor())

    wrapper.redacting = True
    return wrapper


class Backend:
    """One provider's protocol. Subclasses override the operations their provider offers.

    Every operation in `REDACTED_OPERATIONS` is wrapped, in this class and each subclass, so
    that what it returns or raises carries no form of the account's password (`http.redact`).
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in REDACTED_OPERATIONS:
            method = cls.__dict__.get(name)
            if method is not None and not getattr(method, "redacting", False):
                setattr(cls, name, _redacting(method))

    def redactor(self) -> Callable[[str], str]:
        """A function removing this account's password, in every form, from a text.

        The password is decrypted and its forms worked out only when a text is given: most
        results (a send's, one per recipient at ISMS) carry no text at all."""
        from . import http

        made: list[Callable[[str], str]] = []

        def redact(text: str) -> str:
            if not text:
                return text
            if not made:
                made.append(http.redactor(self.account.password))
            return made[0](text)

        return redact

    def redact(self, text: str) -> str:
        return self.redactor()(text) if text else text

    kind: ClassVar[str]
    label: ClassVar[str]
    default_base_url: ClassVar[str]
    capabilities: ClassVar[Capabilities] = Capabilities()
    # Where the provider's calls to our webhooks come from, as its document says (offered for
    # the account's IP allow-list).
    callback_addresses: ClassVar[tuple[str, ...]] = ()

    def __init__(self, account: ProviderAccount) -> None:
        self.account = account

    @classmethod
    def settings_fields(cls) -> dict[str, forms.Field]:
        """Form fields for this kind's options, stored in `ProviderAccount.options`."""
        return {}

    @classmethod
    def options_from_form(
        cls, cleaned_data: Mapping[str, Any], previous: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """The `options` to store from a form holding `settings_fields()`: a secret left empty
        keeps the previous one (secrets arrive already encrypted by `SecretField.clean`)."""
        previous = previous or {}
        options = {}
        for name, setting in cls.settings_fields().items():
            value = cleaned_data.get(name)
            if getattr(setting, "secret", False) and not value:
                if previous.get(name):
                    options[name] = previous[name]
            elif value is not None:
                options[name] = value
        return options

    def secret_option(self, name: str) -> str:
        """A secret setting, decrypted ("" when none is stored)."""
        from smsportal.providers import crypto

        return crypto.decrypt(str(self.options.get(name) or ""))

    @property
    def options(self) -> dict[str, Any]:
        return self.account.options or {}

    @property
    def base_url(self) -> str:
        return self.account.base_url or self.default_base_url

    @property
    def encoding_profile(self) -> EncodingProfile:
        """The alphabets this account puts on the wire, and what it cannot carry. The compose
        preview, `Message.segments`, the cost estimate and the send all count with it."""
        return STANDARD

    def unsupported(self, operation: str) -> UnsupportedOperation:
        return UnsupportedOperation(f"{operation} is not supported by {self.label}.")

    # Sending ---------------------------------------------------------------------------------

    def check_before_send(self, message: OutgoingMessage, recipients: Sequence[Recipient]) -> None:
        """Refuse, by raising a ProviderError, what the provider would refuse or block (too
        many parts, a flood rule, a sender it cannot take). Nothing is sent."""

    def send(self, message: OutgoingMessage, recipients: Sequence[Recipient]) -> SendResult:
        """Submit one batch of at most `capabilities.bulk_size` recipients.

        Per-recipient refusals come back as FAILED results. An error that concerns the whole
        request raises: a TransientError with `request_sent=False` may be retried; anything else
        after the request may have left makes the batch UNKNOWN to the caller.
        """
        raise self.unsupported("Sending")

    # Account --------------------------------------------------------------------------------

    def check_connection(self) -> str:
        """Prove the address and credentials work with the provider's cheapest read operation;
        return what the provider answered as a sentence for staff. Nothing is sent or changed.
        Raises ProviderError (its text says what went wrong) otherwise."""
        if self.capabilities.balance:
            balance = self.balance()
            said = f"{self.label} answered: {balance.amount:,} credits left"
            if balance.purchased is not None:
                said += f" of {balance.purchased:,} purchased"
            if balance.used is not None:
                said += f", {balance.used:,} used to date"
            return said + "."
        if self.capabilities.sender_ids:
            ids = self.sender_ids()
            count = f"{len(ids):,} sender ID{'' if len(ids) == 1 else 's'}"
            return f"{self.label} answered: {count}" + (f" ({', '.join(ids)})." if ids else ".")
        raise self.unsupported("Testing the connection")

    def balance(self) -> Balance:
        raise self.unsupported("Balance enquiry")

    def sender_ids(self) -> list[str]:
        raise self.unsupported("Listing sender IDs")

    def set_default_sender(self, choice: str) -> None:
        raise self.unsupported("Choosing the default sender ID")

    def transfer(self, customer: str, amount: Decimal, reference: str) -> TransferResult:
        raise self.unsupported("Credit transfer")

    # Delivery reports and incoming SMS ------------------------------------------------------

    def delivery_status(self, provider_message_id: str) -> StatusUpdate:
        """Ask the provider for one message's state (polling)."""
        raise self.unsupported("Asking for a delivery report")

    def recent_delivery_reports(self) -> list[StatusUpdate]:
        """Reports of recent messages in one call, where the provider offers it."""
        raise self.unsupported("Listing recent delivery reports")

    def parse_delivery_report(self, params: Mapping[str, str]) -> StatusUpdate:
        """Turn a pushed report's parameters into a StatusUpdate; ProtocolError if malformed."""
        raise self.unsupported("Receiving delivery reports")

    def parse_inbound(self, params: Mapping[str, str]) -> InboundSMS:
        """Turn a pushed incoming SMS into an InboundSMS; ProtocolError if malformed."""
        raise self.unsupported("Receiving incoming SMS")

    # Lists stored at the provider -----------------------------------------------------------

    def remote_lists(self) -> list[str]:
        raise self.unsupported("Remote lists")

    def create_remote_list(self, name: str) -> None:
        raise self.unsupported("Remote lists")

    def delete_remote_list(self, name: str) -> None:
        raise self.unsupported("Remote lists")

    def add_to_remote_list(self, name: str, phone: str) -> None:
        raise self.unsupported("Remote lists")

    def send_to_remote_list(self, name: str, message: OutgoingMessage) -> SendResult:
        raise self.unsupported("Sending to a remote list")
