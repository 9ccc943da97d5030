"""How a text travels as SMS: its alphabet, its length in units, and its parts (3GPP TS 23.038 and
23.040). Pure: no Django, no I/O; the compose preview, sending and the provider backends all ask
here, so a text costs the same everywhere.

Which alphabets a text may use depends on the account: each backend declares an
`EncodingProfile` (`Backend.encoding_profile`), and `analyse(text, profile)` counts exactly what
that account will put on the wire.

- GSM-7 when every character is in the GSM 7-bit default alphabet or its extension table (the
  extension characters — form feed, ^ { } \\ [ ~ ] | € — cost two septets: an escape and the
  character). The `gsm0338` codec decides membership; it also accepts U+001B, the escape code
  itself, which is no character a person can send, so that one forces UCS-2 here.
- Latin-1 (ISO-8859-1, one octet per character, 140 per SMS and 134 per part) only where the
  profile offers it (SMS Centre bound with system_type "ISO").
- UCS-2 otherwise, counted in UTF-16 code units: characters outside the Basic Multilingual Plane
  (most emoji) take two.
- Of the alphabets that can carry a text, the one with the fewest parts wins, the first of the
  profile's list on a tie: plain GSM text never costs more because another alphabet is offered.
- One SMS holds 160 septets, 140 octets or 70 UCS-2 units; a concatenated message holds 153, 134
  or 67 per part (the rest is the UDH). A part never ends between an escape and its character,
  nor between the two halves of a surrogate pair: such a character moves whole to the next part.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)
from django.utils.translation import gettext_lazy as _

GSM7 = "GSM-7"
LATIN1 = "Latin-1"
UCS2 = "UCS-2"
# (single message, each part of a long one), in the alphabet's units.
LIMITS = {GSM7: (160, 153), LATIN1: (140, 134), UCS2: (70, 67)}
# What staff read: plain words, never "septets" or "UCS-2 units".
# Lazy: the words are read in the language of the page that shows them.
ALPHABET_LABELS = {GSM7: _("Standard"), LATIN1: _("Western European"), UCS2: _("Unicode")}
ALPHABET_DESCRIPTIONS = {
    GSM7: _("the standard SMS alphabet"),
    LATIN1: _("the Western European alphabet"),
    UCS2: _("Unicode"),
}
ESCAPE = "\x1b"


def _gsm_tables() -> tuple[frozenset[str], frozenset[str]]:
    """The characters GSM-7 carries in one septet and in two (escape + character), read from the
    `gsm0338` codec's own decoding and confirmed by its encoder (tests/sms compares them with the
    encoder over the whole Basic Multilingual Plane)."""
    one, two = set(), set()
    for byte in range(128):
        for raw, table in ((bytes([byte]), one), (bytes([0x1B, byte]), two)):
            try:
                decoded = raw.decode("gsm03.38")
            except UnicodeDecodeError:
                continue
            for char in decoded:
                try:
                    if len(char.encode("gsm03.38")) == (1 if table is one else 2):
                        table.add(char)
                except UnicodeEncodeError:
                    pass
    one.discard(ESCAPE)  # the escape code itself is no character a person can send
    return frozenset(one), frozenset(two)


GSM_BASIC, GSM_EXTENDED = _gsm_tables()
GSM_CHARACTERS = GSM_BASIC | GSM_EXTENDED


def gsm_septets(char: str) -> int | None:
    """Septets `char` takes in GSM-7 (1, or 2 for the extension table); None if not GSM."""
    if char in GSM_BASIC:
        return 1
    return 2 if char in GSM_EXTENDED else None


def ucs2_units(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def is_lone_surrogate(char: str) -> bool:
    return 0xD800 <= ord(char) <= 0xDFFF


def units_in(char: str, alphabet: str) -> int | None:
    """Units `char` takes in `alphabet`; None when the alphabet cannot carry it."""
    if alphabet == GSM7:
        return gsm_septets(char)
    if alphabet == LATIN1:
        return 1 if ord(char) <= 0xFF else None
    return None if is_lone_surrogate(char) else ucs2_units(char)


def _wide(chars: set[str], encoding: str) -> set[str]:
    """Which of the text's distinct characters take two units in `encoding`: GSM-7's extension
    table, UCS-2's characters beyond the Basic Multilingual Plane (a surrogate pair); none in
    Latin-1."""
    if encoding == GSM7:
        return chars & GSM_EXTENDED
    if encoding == UCS2 and chars and max(chars) > "\uffff":
        return {c for c in chars if c > "\uffff"}
    return set()


def _cut(text: str, encoding: str, wide: set[str]) -> tuple[list[str], list[int]]:
    """`text` in parts (see `split`) and the units of each, given its two-unit characters. Each
    part is the longest slice that fits: units are counted with `str.count` per distinct
    two-unit character, and a slice too long by them is shortened from its end."""

    wide_chars = tuple(wide)

    def units(chunk: str) -> int:
        # One C call (str.count) per distinct two-unit character: there are few.
        return len(chunk) + sum(map(chunk.count, wide_chars))

    single, per_part = LIMITS[encoding]
    if len(text) <= single and (total := units(text)) <= single:
        return ([text], [total]) if text else ([], [])
    parts: list[str] = []
    counts: list[int] = []
    start, length = 0, len(text)
    while start < length:
        end = min(length, start + per_part)
        used = units(text[start:end])
        if used > per_part:
            # Too long by `used - per_part` units: dropping that many characters surely fits
            # (each is at least one unit); then take back what still fits, one at a time (at
            # most one per two-unit character dropped). A two-unit character never straddles
            # two parts.
            end -= used - per_part
            used = units(text[start:end])
            while end < length and used + (step := 2 if text[end] in wide else 1) <= per_part:
                used += step
                end += 1
        parts.append(text[start:end])
        counts.append(used)
        start = end
    return parts, counts


# The longest text whose characters are kept: a message of 255 parts of 153 characters. A
# longer one (a paste the preview refuses at once) is not held in memory for later.
KEPT_TEXT_LENGTH = 255 * 153


def distinct_characters(text: str) -> frozenset[str]:
    """The characters `text` is made of. Kept for the last few texts: the preview asks it of
    the same text four times (its ceiling, analysis, look-alikes and invisible characters),
    and gathering 1,600 characters costs more than finding them again (a string keeps its
    hash)."""
    return _kept_characters(text) if len(text) <= KEPT_TEXT_LENGTH else frozenset(text)


@lru_cache(maxsize=16)
def _kept_characters(text: str) -> frozenset[str]:
    return frozenset(text)


def split(text: str, encoding: str) -> list[str]:
    """The parts `text` is sent in: one when it fits a single SMS, else parts of at most 153
    septets / 134 octets / 67 units, never cutting an escape sequence or a surrogate pair.
    Raises ValueError when `encoding` cannot carry a character of `text`."""
    chars = distinct_characters(text)
    if encoding == GSM7 and not chars <= GSM_CHARACTERS:
        bad = min(chars - GSM_CHARACTERS, key=text.index)
        raise ValueError(f"{bad!r} is not in {ALPHABET_DESCRIPTIONS[encoding]}")
    if encoding == LATIN1 and chars and max(chars) > "\xff":
        bad = min((c for c in chars if c > "\xff"), key=text.index)
        raise ValueError(f"{bad!r} is not in {ALPHABET_DESCRIPTIONS[encoding]}")
    # UCS-2 carries anything: a broken half of a pair counts one unit (reported by `analyse`).
    return _cut(text, encoding, _wide(chars, encoding))[0]


@dataclass(frozen=True)
class EncodingProfile:
    """What one account can put on the wire.

    `alphabets`: the alphabets it may use, in order of preference (UCS-2, which carries any
    valid text, last). `refusal(text, alphabet)` returns why this account cannot carry the text
    in that alphabet (KwtSMS lang 2 cannot carry an emoji; KwtSMS by email cannot carry a new
    line), or an empty string.
    """

    name: str = "standard"
    alphabets: tuple[str, ...] = (GSM7, UCS2)
    refusal: Callable[[str, str], str] | None = None


STANDARD = EncodingProfile()


@dataclass(frozen=True)
class Analysis:
    text: str
    encoding: str  # GSM7, LATIN1 or UCS2
    units: int  # septets (GSM-7), octets (Latin-1) or UTF-16 code units (UCS-2)
    segments: int
    parts: tuple[str, ...]
    unit_limit_single: int
    unit_limit_part: int
    remaining: int  # units left in the last part before another is needed
    non_gsm: tuple[str, ...]  # distinct characters outside GSM-7, in order of appearance
    invalid: tuple[str, ...]  # distinct characters no phone can show (lone surrogates)
    refused: str = ""  # why the account cannot carry this text (its profile's refusal)
    part_units: tuple[int, ...] = ()  # units of each part, in the alphabet's units

    @property
    def characters(self) -> int:
        return len(self.text)

    @property
    def is_empty(self) -> bool:
        return not self.text

    @property
    def sendable(self) -> bool:
        return bool(self.text) and not self.invalid and not self.refused

    @property
    def problem(self) -> str:
        """Why the text cannot be sent, for staff; empty when it can."""
        if not self.text:
            return str(_("The message is empty."))
        if self.invalid:
            codes = ", ".join(f"U+{ord(c):04X}" for c in self.invalid)
            return str(
                _(
                    "The text contains characters that are not valid Unicode (%(codes)s: a broken "
                    "half of an emoji or similar). Remove them and try again."
                )
            ) % {"codes": codes}
        return self.refused

    @property
    def label(self) -> str:
        """The alphabet in plain words ("Standard", "Unicode", "Western European")."""
        return str(ALPHABET_LABELS[self.encoding])

    @property
    def description(self) -> str:
        return str(ALPHABET_DESCRIPTIONS[self.encoding])

    @property
    def counted_differently(self) -> bool:
        """Whether some characters count twice (so the count differs from the characters)."""
        return self.units != self.characters


def _carried(chars: set[str], alphabet: str, invalid: tuple[str, ...]) -> bool:
    if alphabet == GSM7:
        return chars <= GSM_CHARACTERS
    if alphabet == LATIN1:
        return not chars or max(chars) <= "\xff"
    return not invalid


def character_ceiling(text: str, max_parts: int, profile: EncodingProfile = STANDARD) -> int:
    """The most characters `max_parts` parts can hold for a text of `text`'s characters: in the
    roomiest of the profile's alphabets that carries them all, every character taking at least
    one unit. A longer text certainly needs more parts, and can be told so without analysing it
    (a Unicode text's ceiling is 67 a part, not GSM-7's 153)."""
    chars = distinct_characters(text)
    ceilings = [
        max(LIMITS[alphabet][0], max_parts * LIMITS[alphabet][1])
        for alphabet in profile.alphabets
        if _carried(chars, alphabet, ())
    ]
    return max(ceilings, default=max(LIMITS[UCS2][0], max_parts * LIMITS[UCS2][1]))


def analyse(text: str, profile: EncodingProfile = STANDARD) -> Analysis:
    """Everything the preview and the senders need to know about `text` sent by an account with
    this `profile`. Never raises.

    Set-based: the alphabet is decided on the text's distinct characters, the units by counting
    the few two-unit characters, and the parts by slicing (tests/sms holds it to a
    character-by-character reference for any text)."""
    chars = distinct_characters(text)
    outside = chars - GSM_CHARACTERS
    # In order of appearance: a handful of distinct characters, each found by str.index (C).
    non_gsm = tuple(sorted(outside, key=text.index)) if outside else ()
    invalid = tuple(c for c in non_gsm if "\ud800" <= c <= "\udfff")
    candidates = [a for a in profile.alphabets if _carried(chars, a, invalid)] or [UCS2]
    if GSM7 in candidates and UCS2 in candidates:
        # GSM-7 never needs more parts than UCS-2 (even all-escape text fits 76 characters per
        # part against 67): no need to cut the text twice.
        candidates.remove(UCS2)
    cuts = {alphabet: _cut(text, alphabet, _wide(chars, alphabet)) for alphabet in candidates}
    encoding = min(candidates, key=lambda a: (len(cuts[a][0]), candidates.index(a)))
    parts, part_units = cuts[encoding]
    single, per_part = LIMITS[encoding]
    limit = single if len(parts) <= 1 else per_part
    refused = profile.refusal(text, encoding) if profile.refusal and text else ""
    return Analysis(
        text=text,
        encoding=encoding,
        units=sum(part_units),
        segments=len(parts),
        parts=tuple(parts),
        unit_limit_single=single,
        unit_limit_part=per_part,
        remaining=limit - (part_units[-1] if parts else 0),
        non_gsm=non_gsm,
        invalid=invalid,
        refused=refused,
        part_units=tuple(part_units),
    )


# --- "smart" replacement ----------------------------------------------------------------------

# Look-alikes people paste from word processors and phones, with their GSM-7 stand-ins.
_REPLACEMENTS = {
    **dict.fromkeys("‘’‚‛′‵´", "'"),
    **dict.fromkeys("“”„‟″‶«»", '"'),
    **dict.fromkeys("‐‑‒–—―−", "-"),
    "…": "...",
    **dict.fromkeys(
        "\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f"
        "\u205f\u3000",
        " ",
    ),
    **dict.fromkeys("\u200b\u200c\u200d\u2060\ufeff", ""),  # zero-width: invisible anyway
    "•": "*",
    "·": ".",
    "×": "x",
    "÷": "/",
    "`": "'",
    "ç": "Ç",  # GSM has only the capital; phones show it as the cedilla letter people expect
    "\t": " ",
    # Greek capitals that look Latin are not in GSM (only the ten distinct ones are).
    **dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "ABEZHIKMNOPTYX", strict=True)),
}


@lru_cache(maxsize=4096)
def _replacement(char: str) -> str:
    if char in _REPLACEMENTS:
        return _REPLACEMENTS[char]
    # Letters with accents GSM lacks (á, ś, ő...) lose the accent: NFKD splits the base letter
    # from its combining marks; ligatures (ﬁ) and full-width forms (Ａ) become plain letters.
    decomposed = "".join(
        c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
    )
    if decomposed and set(decomposed) <= GSM_CHARACTERS:
        return decomposed
    return char


def gsm_equivalent(text: str) -> str:
    """`text` with look-alike characters replaced by GSM-7 ones; a character with no good
    replacement (an emoji, Arabic) stays as it is. Each distinct character is looked at once;
    `str.translate` does the replacing."""
    table = {
        ord(c): r for c in distinct_characters(text) - GSM_CHARACTERS if (r := _replacement(c)) != c
    }
    return text.translate(table) if table else text
