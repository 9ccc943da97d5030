"""The kinds of message compose offers, which ones an account's provider supports, and how a
binary payload is read.

A kind is a provider-independent `MessageType` plus, for "no delivery report" bulk, the wish for
no report (ISMS sends those through ISendSMSNoDR, many numbers per request, and never says what
became of them).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from smsportal.providers.backends.base import Capabilities, MessageType
from smsportal.sms.encoding import STANDARD, Analysis, EncodingProfile, analyse
from smsportal.sms.placeholders import parse

TEXT = "text"
FLASH = "flash"
BINARY = "binary"
BARCODE = "barcode"
VOICE = "voice"
NO_REPORT = "bulk_no_report"

# The kinds whose text staff write with placeholders ({first_name|Customer}).
PERSONAL_KINDS = (TEXT, FLASH, NO_REPORT)

KINDS: dict[str, tuple[str, str]] = {
    TEXT: (_("Text"), _("An ordinary SMS.")),
    FLASH: (_("Flash"), _("Shown at once on the screen, not stored in the inbox.")),
    BINARY: (
        _("Binary"),
        _(
            "Octets written in hexadecimal (ringtones, logos, WAP push), in one SMS of at most "
            "140 octets."
        ),
    ),
    BARCODE: (
        _("2D barcode"),
        # Translators: %barcode% is typed in the message as it is; keep it.
        _(
            "The provider makes a barcode for each recipient; %barcode% in the text becomes "
            "its number."
        ),
    ),
    VOICE: (
        _("Voice"),
        _("The text is read out in a phone call instead of arriving as an SMS."),
    ),
    NO_REPORT: (
        _("Bulk, no delivery report"),
        _(
            "Many numbers per request and cheaper to send, but the provider never says whether "
            "they arrived: deliveries stay “submitted”, not confirmed by the provider."
        ),
    ),
}

# ISMS ISendSMS2D MsgType values, as document 002 spells them.
BARCODE_FORMATS = [
    ("EMS", _("EMS (phones such as Ericsson)")),
    ("Nokia", "Nokia"),
    ("MMS", "MMS"),
    ("textmsg", _("Text message")),
    ("textlink", _("Text link")),
]
BARCODE_PLACEHOLDER = "%barcode%"

BINARY_LIMIT = 140  # octets in one SMS


def available(capabilities: Capabilities) -> list[str]:
    """The kinds an account with these capabilities can send, in the order compose shows them."""
    offered = {
        TEXT: capabilities.send,
        FLASH: capabilities.flash,
        BINARY: capabilities.binary,
        BARCODE: capabilities.barcode,
        VOICE: capabilities.voice,
        NO_REPORT: bool(capabilities.bulk_size_without_reports),
    }
    return [kind for kind in KINDS if offered[kind]]


def message_type(kind: str) -> MessageType:
    return MessageType.TEXT if kind == NO_REPORT else MessageType(kind)


@dataclass(frozen=True)
class Binary:
    """A binary payload: its user data header (when it has one) and the data after it."""

    udh: bytes
    data: bytes

    @property
    def octets(self) -> int:
        return len(self.udh) + len(self.data)


def parse_binary(text: str, with_udh: bool) -> Binary:
    """Read hex octets (spaces and line breaks ignored); ValueError says what is wrong."""
    digits = "".join(text.split())
    if not digits:
        raise ValueError(_("The binary message is empty: type its octets in hexadecimal."))
    bad = sorted({c for c in digits if c not in "0123456789abcdefABCDEF"})
    if bad:
        raise ValueError(
            _(
                "A binary message is written in hexadecimal (0–9, A–F); %(bad)s cannot be part "
                "of it."
            )
            % {"bad": ", ".join(repr(c) for c in bad[:5])}
        )
    if len(digits) % 2:
        raise ValueError(
            _("A binary message needs two hexadecimal digits per octet; one is missing.")
        )
    octets = bytes.fromhex(digits)
    if len(octets) > BINARY_LIMIT:
        raise ValueError(
            _("A binary message fits in one SMS of %(limit)s octets; this one has %(count)s.")
            % {"limit": BINARY_LIMIT, "count": f"{len(octets):,}"}
        )
    if not with_udh:
        return Binary(b"", octets)
    length = octets[0] + 1  # the first octet (UDHL) counts the header octets after it
    if octets[0] == 0 or length > len(octets):
        raise ValueError(
            _(
                "The user data header says it is %(said)s octets long after its first octet, "
                "but the message has %(has)s. Check the header, or send it without one."
            )
            % {"said": octets[0], "has": len(octets) - 1}
        )
    return Binary(octets[:length], octets[length:])


def hex_octets(data: bytes) -> str:
    return data.hex(" ").upper()


@dataclass(frozen=True)
class BinaryAnalysis:
    """What the compose preview shows for a binary payload, shaped like `encoding.Analysis`."""

    text: str
    binary: Binary | None
    error: str = ""
    encoding: str = "binary"
    label: str = "Binary"
    description: str = "binary octets"
    unit_name: str = "octets"
    counted_differently: bool = False
    unit_limit_single: int = BINARY_LIMIT
    refused: str = ""
    non_gsm: tuple[str, ...] = ()
    invalid: tuple[str, ...] = ()

    @property
    def units(self) -> int:
        return self.binary.octets if self.binary else 0

    @property
    def characters(self) -> int:
        return len("".join(self.text.split()))

    @property
    def segments(self) -> int:
        return 1

    @property
    def remaining(self) -> int:
        return BINARY_LIMIT - self.units

    @property
    def parts(self) -> tuple[str, ...]:
        return (hex_octets(self.binary.udh + self.binary.data),) if self.binary else ()

    @property
    def problem(self) -> str:
        return self.error

    @property
    def sendable(self) -> bool:
        return not self.error

    @property
    def is_empty(self) -> bool:
        return not self.text.strip()


def measure(
    text: str, kind: str, with_udh: bool = True, profile: EncodingProfile = STANDARD
) -> Analysis | BinaryAnalysis:
    """The text as the chosen kind will send it (with the account's encoding `profile`):
    encoding, segments and any problem."""
    if kind != BINARY:
        return analyse(text, profile)
    try:
        return BinaryAnalysis(text, parse_binary(text, with_udh))
    except ValueError as exc:
        return BinaryAnalysis(text, None, str(exc))


def body_for(text: str, kind: str) -> str:
    """What is stored and sent: binary as plain hex digits, anything else as typed."""
    return "".join(text.split()).upper() if kind == BINARY else text


def as_written(text: str, kind: str) -> tuple[str, bool]:
    """A text as staff write it (compose, the API, recurring sends), ready for the send service:
    the body, and whether it is personal. Placeholders make it personal (each recipient's own
    text is rendered by `sending.prepare(personal=True)`); without any, "{{" written for a brace
    becomes one brace. Binary, barcode and voice texts have no placeholders: sent as they are."""
    body = body_for(text, kind)
    if kind not in PERSONAL_KINDS:
        return body, False
    template = parse(body)
    if template.is_personal:
        return body, True
    return template.render({}).text, False
