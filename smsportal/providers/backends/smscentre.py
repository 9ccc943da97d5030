"""SMS Centre: SMPP 3.4 through smpplib. One `submit_sm` per recipient and part, on a transceiver
each worker process keeps bound, with a window of submits on the wire (`smpp_link.py`); receipts
arrive as `deliver_sm` on the transceiver `smpp_listen` keeps bound (see
`messaging/delivery_reports/smpp_listener.py`), or on the link that submitted.

What SMS Centre documents, and the decisions taken where it says nothing:
docs/providers.md#sms-centre. Its document gives no host, no receipt format and no error codes.
"""

from __future__ import annotations

import logging
import re
import struct
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import smpplib.client
import smpplib.consts as c
import smpplib.exceptions
import smpplib.smpp
from django import forms
from django.db import DatabaseError, close_old_connections
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from smsportal.sms.encoding import (
    GSM7,
    LATIN1,
    STANDARD,
    UCS2,
    EncodingProfile,
    analyse,
)
from smsportal.sms.phones import international_digits, parse_phone
from smsportal.sms.status import DeliveryStatus

from .base import (
    AuthenticationError,
    Backend,
    Capabilities,
    FloodRules,
    InboundSMS,
    InvalidContent,
    MessageType,
    OutgoingMessage,
    ProtocolError,
    ProviderError,
    Recipient,
    SendResult,
    StatusUpdate,
    SubmitResult,
    SubmitStatus,
    TransientError,
)
from .smpp_link import Link, NotWritten, link_for

DEFAULT_PORT = 3700
TIMEOUT = 10.0  # seconds for connecting, binding and each submit_sm_resp
CLOSED = "SMS Centre closed the connection."
UNKNOWN_PREFIX = "Outcome unknown: "
WINDOW = 10  # submits on the wire at once per link, unless the account says (Kannel's default)
MAX_WINDOW = 100
PASSWORD_MAX = 8  # SMPP 3.4: the bind's password is a C-Octet String of at most 9 octets

# smpplib logs every PDU in hex at DEBUG, the bind's password included: keep its loggers quiet
# whatever the log configuration says.
WIRE_LOGGER = "smsportal.providers.smscentre.wire"
logging.getLogger(WIRE_LOGGER).setLevel(logging.INFO)
log = logging.getLogger(__name__)

# The provider's two flood rules (docs/providers.md#sms-centre): the same text to the same number
# within a minute is refused, and more than 50 messages to one subscriber, each less than 30 s
# after the last, block.
# The portal checks them (messaging/flood.py) before it submits, at compose and at dispatch.
FLOOD_RULES = FloodRules(
    identical_window=timedelta(seconds=60),
    subscriber_limit=50,
    subscriber_gap=timedelta(seconds=30),
)

SENDABLE_TYPES = (MessageType.TEXT, MessageType.FLASH, MessageType.BINARY)
BINARY_OCTETS = 140  # a binary message goes whole in one SMS (data_coding 4)
UDH_CONCAT = 0x40  # esm_class: the short message starts with a UDH
RECEIPT = 0x04  # esm_class of a deliver_sm that is a delivery receipt
# The document: data_coding = coding * 4; coding 0 GSM-7, 1 ISO-8859-1, 2 UCS-2 big-endian. Each
# part goes as one octet per GSM septet (the SMSC packs them), per Latin-1 character, or two per
# UCS-2 unit: the parts `analyse` cut never exceed 140 octets with their 6-octet UDH.
DATA_CODING = {GSM7: 0, LATIN1: 4, UCS2: 8}
CODECS = {GSM7: "gsm03.38", LATIN1: "latin-1", UCS2: "utf-16-be"}
# Bound with system_type "ISO", the server also takes ISO-8859-1 (coding 1). Latin text GSM lacks
# (ê, ©, ®) then goes at 140 characters per SMS instead of UCS-2's 70; GSM text stays GSM (160).
ISO_PROFILE = EncodingProfile(name="smscentre-iso", alphabets=(GSM7, LATIN1, UCS2))

# submit_sm_resp command_status -> sentence for staff. Every one is a refusal of that recipient.
SUBMIT_STATUS: dict[int, str] = {
    c.SMPP_ESME_RINVDSTADR: "SMS Centre says the number is invalid.",
    c.SMPP_ESME_RINVSRCADR: "SMS Centre refused the sender ID.",
    c.SMPP_ESME_RINVMSGLEN: "SMS Centre refused the message length.",
    0x104: "SMS Centre refused the message encoding.",  # ESME_RINVDCS (SMPP 5.0)
    c.SMPP_ESME_RTHROTTLED: "SMS Centre refused it under its flood rules (the same text within a "
    "minute, or too many messages to this number).",
    c.SMPP_ESME_RMSGQFUL: "SMS Centre's queue is full; try again later.",
    c.SMPP_ESME_RSUBMITFAIL: "SMS Centre refused the submission (for example, no credit left).",
    c.SMPP_ESME_RSYSERR: "SMS Centre had a system error.",
}
# What smpplib raises on bytes that are no valid PDU.
GARBAGE = (
    smpplib.exceptions.PDUError,
    smpplib.exceptions.UnknownCommandError,
    ValueError,
    IndexError,
    struct.error,
)
# bind_*_resp command_status -> (what staff read, whether it is a refusal of the credentials).
# SMPP 3.4 section 5.1.3: 0x0E invalid password, 0x0F invalid system_id, 0x53 invalid
# system_type (smpplib's SMPP_ESME_RINVSYSTYP), 0x0D "bind failed" with no reason given.
BIND_REFUSED: dict[int, str] = {
    c.SMPP_ESME_RINVPASWD: "SMS Centre refused the system_id or password.",
    c.SMPP_ESME_RINVSYSID: "SMS Centre refused the system_id or password.",
    c.SMPP_ESME_RBINDFAIL: "SMS Centre refused the bind without saying why; check the system_id, "
    "password and system_type.",
}

# Receipt `stat:` words (SMPP 3.4 appendix B) and message_state TLV values -> our status.
RECEIPT_STATES: dict[str, tuple[DeliveryStatus, str]] = {
    "DELIVRD": (DeliveryStatus.DELIVERED, "Delivered."),
    "EXPIRED": (DeliveryStatus.EXPIRED, "Expired before delivery."),
    "DELETED": (DeliveryStatus.UNDELIVERED, "Deleted at the network before delivery."),
    "UNDELIV": (DeliveryStatus.UNDELIVERED, "The network could not deliver it."),
    "ACCEPTD": (DeliveryStatus.SUBMITTED, "Accepted by the network."),
    "ENROUTE": (DeliveryStatus.SUBMITTED, "On its way."),
    "UNKNOWN": (DeliveryStatus.UNKNOWN, "The network does not know what became of it."),
    "REJECTD": (DeliveryStatus.REJECTED, "Rejected by the network."),
}
MESSAGE_STATES = {
    1: "ENROUTE",
    2: "DELIVRD",
    3: "EXPIRED",
    4: "DELETED",
    5: "UNDELIV",
    6: "ACCEPTD",
    7: "UNKNOWN",
    8: "REJECTD",
}
_RECEIPT_FIELD = re.compile(r"(id|sub|dlvrd|submit date|done date|stat|err):(\S*)", re.IGNORECASE)


@dataclass(frozen=True)
class Encoded:
    """A text as SMPP carries it: `data_coding` and the octets of each part."""

    data_coding: int
    parts: list[bytes]


def profile_for(system_type: str) -> EncodingProfile:
    return ISO_PROFILE if system_type.strip().upper() == "ISO" else STANDARD


def encode(text: str, system_type: str = "") -> Encoded:
    """The text's `data_coding` and the octets of each part. Parts come from `analyse` with the
    account's profile, so a text is cut exactly as the compose preview counted it."""
    analysis = analyse(text, profile_for(system_type))
    codec = CODECS[analysis.encoding]
    return Encoded(DATA_CODING[analysis.encoding], [part.encode(codec) for part in analysis.parts])


def concatenation_header(reference: int, total: int, number: int) -> bytes:
    """The 8-bit-reference concatenation UDH (IEI 0x00) of 3GPP TS 23.040."""
    return bytes([0x05, 0x00, 0x03, reference & 0xFF, total, number])


def source_address(sender: str) -> dict:
    if not sender:
        return {"source_addr_ton": c.SMPP_TON_UNK, "source_addr_npi": c.SMPP_NPI_UNK}
    if sender.lstrip("+").isdigit():
        return {
            "source_addr": sender.lstrip("+"),
            "source_addr_ton": c.SMPP_TON_INTL,
            "source_addr_npi": c.SMPP_NPI_ISDN,
        }
    return {
        "source_addr": sender,
        "source_addr_ton": c.SMPP_TON_ALNUM,
        "source_addr_npi": c.SMPP_NPI_UNK,
    }


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return "" if value is None else str(value)


class SMSCentreBackend(Backend):
    kind = "smscentre"
    label = "SMS Centre"
    # The document names no address; smsc.ru publishes its SMPP service at this host and port.
    default_base_url = f"smpp://smpp.smsc.ru:{DEFAULT_PORT}"
    capabilities = Capabilities(
        # One session carries a batch: a bind, then a submit_sm per recipient and part.
        bulk_size=100,
        reports_smpp=True,
        inbound=True,
        flash=True,
        flood_rules=FLOOD_RULES,
        receipts_per_part=True,
        binary=True,
    )

    @classmethod
    def settings_fields(cls) -> dict[str, forms.Field]:
        return {
            "system_type": forms.CharField(
                required=False,
                max_length=12,
                label=gettext_lazy("SMPP system_type"),
                help_text=gettext_lazy(
                    "“ISO” lets Latin text go as ISO-8859-1 (data_coding 4) instead of the "
                    "standard SMS alphabet."
                ),
            ),
            "window": forms.IntegerField(
                required=False,
                min_value=1,
                max_value=MAX_WINDOW,
                label=gettext_lazy("Messages on the wire at once"),
                help_text=format_lazy(
                    gettext_lazy(
                        "How many messages may wait for SMS Centre's answer at once (default {})."
                    ),
                    WINDOW,
                ),
            ),
        }

    @property
    def address(self) -> tuple[str, int]:
        url = urlsplit(self.base_url)
        if url.scheme != "smpp" or not url.hostname:
            raise ProviderError(
                f"{self.account}: the address must look like smpp://host:port, "
                f"not {self.base_url!r}.",
                code="config",
            )
        return url.hostname, url.port or DEFAULT_PORT

    @property
    def system_type(self) -> str:
        return str(self.options.get("system_type") or "")

    @property
    def encoding_profile(self) -> EncodingProfile:
        return profile_for(self.system_type)

    # --- the session ------------------------------------------------------------------------

    @property
    def window(self) -> int:
        """Submits on the wire at once on this account's link (Kannel's max-pending-submits)."""
        try:
            return max(1, min(MAX_WINDOW, int(self.options.get("window") or WINDOW)))
        except (TypeError, ValueError):
            return WINDOW

    @contextmanager
    def session(self, mode: str = "transmitter") -> Iterator[smpplib.client.Client]:
        """A bound session, unbound when the block ends. Errors before the bind completes mean
        nothing was submitted."""
        client = self.bind(mode)
        try:
            yield client
        finally:
            self.unbind(client)

    def bind(self, mode: str) -> smpplib.client.Client:
        """Connect and bind; raise with a sentence for staff if that fails (nothing sent)."""
        host, port = self.address
        if len(self.account.password) > PASSWORD_MAX:
            # smpplib would silently cut it and the bind would fail with a puzzling refusal.
            raise AuthenticationError(
                f"SMPP passwords are at most {PASSWORD_MAX} characters; check {self.account}'s.",
                code="config",
            )
        client = smpplib.client.Client(
            host, port, timeout=TIMEOUT, logger_name=WIRE_LOGGER, allow_unknown_opt_params=True
        )
        try:
            client.connect()
            getattr(client, f"bind_{mode}")(
                system_id=self.account.username,
                password=self.account.password,
                system_type=self.system_type,
            )
        except smpplib.exceptions.PDUError as exc:
            client.disconnect()
            status = exc.args[1] if len(exc.args) > 1 else None
            if status == c.SMPP_ESME_RINVSYSTYP:
                raise ProviderError(
                    f"SMS Centre refused the system_type {self.system_type!r}; it accepts "
                    '"ISO" or nothing. Change it in the account\'s settings.',
                    code=f"bind:{status}",
                ) from None
            if status in BIND_REFUSED:
                raise AuthenticationError(BIND_REFUSED[status], code=f"bind:{status}") from None
            raise TransientError(
                f"SMS Centre refused the bind ({c.DESCRIPTIONS.get(status, status)}).",
                request_sent=False,
                code=f"bind:{status}",
            ) from None
        except (smpplib.exceptions.ConnectionError, OSError) as exc:
            client.disconnect()
            raise TransientError(
                f"Could not connect to SMS Centre at {host}:{port} ({type(exc).__name__}).",
                request_sent=False,
                code="connect",
            ) from None
        return client

    def open_link(self) -> Link:
        """A transceiver bound for this process's sends (see `smpp_link`)."""
        return Link(
            self, self.bind("transceiver"), window=self.window, timeout=TIMEOUT, garbage=GARBAGE
        )

    def unbind(self, client) -> None:
        """Unbind politely and close. A receipt that arrives before the unbind_resp is stored
        and answered, not dropped; on a session that broke, the unbind fails and that changes
        nothing."""
        with suppress(smpplib.exceptions.ConnectionError, OSError, *GARBAGE):
            if client.state in c.COMMAND_STATES["unbind"]:
                request = smpplib.smpp.make_pdu("unbind", client=client)
                client.send_pdu(request)
                while True:
                    answer = client.read_pdu()
                    if answer.command == "unbind_resp" or answer.command == "unbind":
                        break
                    self.serve(client, answer)
        client.disconnect()

    def check_connection(self) -> str:
        # SMPP has no balance enquiry; a bind and an unbind prove the address, the system_id,
        # the password and the system_type, and send nothing.
        host, port = self.address
        with self.session():
            pass
        system_type = f", system_type {self.system_type!r}" if self.system_type else ""
        return (
            f"SMS Centre at {host}:{port} accepted the bind as {self.account.username}"
            f"{system_type}."
        )

    # --- sending ----------------------------------------------------------------------------

    def check_before_send(self, message: OutgoingMessage, recipients: Sequence[Recipient]) -> None:
        if message.type not in SENDABLE_TYPES:
            raise self.unsupported(f"Sending {message.type.value} messages")
        parts = len(self.encoded(message).parts)
        if message.max_parts and parts > message.max_parts:
            raise InvalidContent(
                f"The text needs {parts} parts; this account allows {message.max_parts}."
            )

    def encoded(self, message: OutgoingMessage) -> Encoded:
        if message.type == MessageType.BINARY:
            # The document: coding 1 (data_coding 4) carries "Latin text or binary data". The hex
            # payload goes as its octets, in one SMS, its UDH (if any) marked by esm_class.
            try:
                data = bytes.fromhex(message.text)
            except ValueError:
                raise InvalidContent("A binary message must be hexadecimal octets.") from None
            if not data or len(data) > BINARY_OCTETS:
                raise InvalidContent(
                    f"A binary message holds 1 to {BINARY_OCTETS} octets, not {len(data)}."
                )
            return Encoded(4, [data])
        return encode(message.text, self.system_type)

    def send(self, message: OutgoingMessage, recipients: Sequence[Recipient]) -> SendResult:
        """Every part to every recipient on this process's link, up to `window` submits on the
        wire at once; then each recipient's outcome from its parts' answers."""
        # Checked here as well as before: a caller that skips check_before_send must not get a
        # voice or binary message submitted as text.
        if message.type not in SENDABLE_TYPES:
            raise self.unsupported(f"Sending {message.type.value} messages")
        encoded = self.encoded(message)
        link = link_for(self, self.open_link)
        written: list[tuple[Recipient, list[Future]]] = []
        stopped: TransientError | None = None
        for recipient in recipients:
            futures: list[Future] = []
            if stopped is None:
                try:
                    for fields in self._parts(message, encoded, recipient):
                        futures.append(link.submit(**fields))
                except NotWritten as exc:
                    stopped = exc.error
            written.append((recipient, futures))
        total = len(encoded.parts)
        return SendResult(
            [self._outcome(recipient, futures, total, stopped) for recipient, futures in written]
        )

    def _parts(self, message: OutgoingMessage, encoded: Encoded, recipient: Recipient):
        """The submit_sm fields of each part to one recipient."""
        total = len(encoded.parts)
        reference = int(recipient.reference or 0) if (recipient.reference or "").isdigit() else 0
        for number, part in enumerate(encoded.parts, start=1):
            yield {
                **source_address(message.sender),
                "dest_addr_ton": c.SMPP_TON_INTL,
                "dest_addr_npi": c.SMPP_NPI_ISDN,
                "destination_addr": international_digits(recipient.phone),
                "esm_class": UDH_CONCAT
                if total > 1 or (message.type == MessageType.BINARY and message.udh)
                else 0,
                "data_coding": encoded.data_coding
                | (0x10 if message.type == MessageType.FLASH else 0),
                "registered_delivery": 1 if message.want_delivery_report else 0,
                "short_message": (
                    concatenation_header(reference, total, number) + part if total > 1 else part
                ),
            }

    def _outcome(
        self,
        recipient: Recipient,
        futures: list[Future],
        total: int,
        stopped: TransientError | None,
    ) -> SubmitResult:
        """One recipient's result from the answers to its parts. The delivery keeps the first
        part's id as its message id and every accepted part's id in `part_ids`, so a receipt
        for any part finds it."""
        if not futures:  # nothing of it went on the wire
            reason = str(stopped) if stopped else "SMS Centre link lost."
            return SubmitResult(
                recipient,
                SubmitStatus.FAILED,
                error_code="not-sent",
                error_text=f"Not sent: {reason}",
            )
        part_ids: list[str] = []
        refusal: tuple[int, int] | None = None  # (part number, command_status)
        lost: TransientError | None = None
        for number, future in enumerate(futures, start=1):
            try:
                status, message_id = future.result(timeout=TIMEOUT + 5)
            except TransientError as exc:
                lost = lost or exc
                continue
            except FutureTimeout:  # the reader should have broken the link long before
                lost = lost or TransientError(
                    f"SMS Centre did not answer the submit within {TIMEOUT:g} seconds.",
                    code="timeout",
                )
                continue
            if status:
                refusal = refusal or (number, status)
            else:
                part_ids.append(message_id)
        if len(futures) < total and lost is None:
            lost = stopped
        first = part_ids[0] if part_ids else ""
        ids = tuple(part_ids) if total > 1 else ()
        if lost is None and refusal is None:
            return SubmitResult(
                recipient, SubmitStatus.SUBMITTED, first, segments=total, part_ids=ids
            )
        if lost is None and not part_ids:  # refused, and no part of it was taken
            number, status = refusal
            return SubmitResult(
                recipient,
                SubmitStatus.FAILED,
                error_code=f"{status:#x}",
                error_text=SUBMIT_STATUS.get(status, f"SMS Centre refused it ({status:#x})."),
            )
        if lost is not None:
            code, text = lost.code, f"{UNKNOWN_PREFIX}{lost}"
        else:  # some parts taken, another refused: the phone may show half a message
            number, status = refusal
            sentence = SUBMIT_STATUS.get(status, f"SMS Centre refused it ({status:#x}).")
            code, text = f"{status:#x}", f"Part {number} of {total} refused: {sentence}"
        return SubmitResult(
            recipient,
            SubmitStatus.UNKNOWN,
            first,
            error_code=code,
            error_text=text,
            segments=total,
            part_ids=ids,
        )

    def serve(self, client, pdu) -> None:
        """Answer what the SMSC sends unasked on a bound session: a link check, a receipt or an
        incoming SMS (handed to the same ingest as `smpp_listen`'s, see `set_deliver_sm_ingest`),
        and an unbind. Answers to our own requests are the caller's business."""
        if pdu.command == "enquire_link":
            client._enquire_link_received(pdu)
        elif pdu.command == "deliver_sm":
            status = self.ingest(pdu)
            answer = smpplib.smpp.make_pdu("deliver_sm_resp", client=client, status=status)
            answer.sequence = pdu.sequence
            client.send_pdu(answer)
        elif pdu.command == "unbind":
            answer = smpplib.smpp.make_pdu("unbind_resp", client=client)
            answer.sequence = pdu.sequence
            client.send_pdu(answer)
            raise smpplib.exceptions.ConnectionError("unbound by the SMSC")

    def ingest(self, pdu) -> int:
        """Store a deliver_sm and return the deliver_sm_resp status: ROK once stored; a
        permanent error for one the portal cannot read (sending it again would not help); a
        temporary error, so the SMSC sends it again later, when it cannot be stored now."""
        try:
            if int(pdu.esm_class or 0) & RECEIPT:
                item: StatusUpdate | InboundSMS = self.parse_delivery_receipt(pdu)
            else:
                item = self.parse_inbound_pdu(pdu)
        except ProtocolError as exc:
            log.warning("%s: %s", self.account, exc)
            return c.SMPP_ESME_RX_P_APPN
        if _ingest is None:
            log.warning("%s: a deliver_sm arrived and no ingest is installed", self.account)
            return c.SMPP_ESME_RX_T_APPN
        try:
            _ingest(self.account, item)
        except DatabaseError:
            log.exception("%s: could not store a deliver_sm; the SMSC will retry", self.account)
            close_old_connections()
            return c.SMPP_ESME_RX_T_APPN
        except Exception:
            # A bug must not take the session (and the submits on it) down: the SMSC keeps the
            # receipt and sends it again.
            log.exception("%s: storing a deliver_sm failed; the SMSC will retry", self.account)
            return c.SMPP_ESME_RX_T_APPN
        return c.SMPP_ESME_ROK

    # --- receipts and incoming SMS ----------------------------------------------------------

    def parse_delivery_receipt(self, pdu) -> StatusUpdate:
        """A `deliver_sm` with esm_class 0x04. The receipted_message_id and message_state TLVs
        win over the text (SMPP 3.4 appendix B), which many SMSCs send alone."""
        text = _text(pdu.short_message)
        fields = {key.lower(): value for key, value in _RECEIPT_FIELD.findall(text)}
        message_id = _text(getattr(pdu, "receipted_message_id", None)) or fields.get("id", "")
        state = (
            MESSAGE_STATES.get(getattr(pdu, "message_state", None) or 0)
            or fields.get("stat", "").upper()
        )
        if not message_id or state not in RECEIPT_STATES:
            raise ProtocolError(
                f"SMS Centre sent a receipt the portal cannot read: {text[:120]!r}.",
                code="receipt",
                provider_text=text,
            )
        status, sentence = RECEIPT_STATES[state]
        error = fields.get("err", "")
        if error and error.strip("0"):
            sentence = f"{sentence} Network error {error}."
        phone = parse_phone("+" + _text(pdu.source_addr).lstrip("+"), "ZZ")
        return StatusUpdate(
            provider_message_id=message_id,
            status=status,
            provider_status=state,
            description=sentence,
            recipient=phone.e164,
            raw={"short_message": text, "source_addr": _text(pdu.source_addr)},
        )

    def parse_inbound_pdu(self, pdu) -> InboundSMS:
        coding = int(pdu.data_coding or 0) & 0x0C
        data = bytes(pdu.short_message or b"")
        if int(pdu.esm_class or 0) & UDH_CONCAT and data:
            data = data[data[0] + 1 :]  # drop the UDH; parts of long SMS arrive as they are
        try:
            if coding == 8:
                text = data.decode("utf-16-be")
            elif coding == 4:
                text = data.decode("latin-1")
            else:
                text = data.decode("gsm03.38")
        except UnicodeDecodeError:
            raise ProtocolError(
                "SMS Centre sent an incoming SMS the portal cannot decode.", code="decode"
            ) from None
        text = text.replace("\x00", "")  # UCS-2 can spell U+0000; no text column can hold it
        sender = _text(pdu.source_addr)
        phone = (
            parse_phone("+" + sender.lstrip("+"), "ZZ") if sender.lstrip("+").isdigit() else None
        )
        return InboundSMS(
            sender=phone.e164 if phone and phone.valid else sender,
            recipient=_text(pdu.destination_addr),
            text=text,
            raw={"source_addr": sender, "data_coding": int(pdu.data_coding or 0)},
        )

    def parse_delivery_report(self, params: Mapping[str, str]) -> StatusUpdate:
        raise self.unsupported("Receiving delivery reports over HTTP")


def _sendable(client) -> bool:
    return client.state in c.COMMAND_STATES["submit_sm"]


# --- where deliver_sm goes ---------------------------------------------------------------------

DeliverSmIngest = Callable[[Any, StatusUpdate | InboundSMS], None]
_ingest: DeliverSmIngest | None = None


def set_deliver_sm_ingest(ingest: DeliverSmIngest | None) -> None:
    """Install the function that stores what a deliver_sm carried, `ingest(account, item)` with
    a StatusUpdate (receipt) or an InboundSMS; it raises DatabaseError when it cannot store it
    now. The messaging app installs it when Django starts (its AppConfig), so every session that
    may receive a deliver_sm, the listener's and the submitting one, stores it the same way,
    while providers import no feature app."""
    global _ingest
    _ingest = ingest
