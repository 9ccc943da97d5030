"""How a text travels as SMS: its alphabet, its length in units, and its parts (3GPP TS 23.038 and
23.040). Pure: no Django, no I/O; the compose preview, sending and the provider backends all ask
here, so a text costs the same everywhere.

- GSM-7 when every character is in the GSM 7-bit default alphabet or its extension table (the
  extension characters — form feed, ^ { } \\ [ ~ ] | € — cost two septets: an escape and the
  character). The `gsm0338` codec decides membership; it also accepts U+001B, the escape code
  itself, which is no character a person can send, so that one forces UCS-2 here.
- UCS-2 otherwise, counted in UTF-16 code units: characters outside the Basic Multilingual Plane
  (most emoji) take two.
- One SMS holds 160 septets or 70 UCS-2 units; a concatenated message holds 153 or 67 per part
  (the rest is the UDH). A part never ends between an escape and its character, nor between the
  two halves of a surrogate pair: such a character moves whole to the next part.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)

GSM7 = "GSM-7"
UCS2 = "UCS-2"
LIMITS = {GSM7: (160, 153), UCS2: (70, 67)}  # (single message, each part of a long one)
ESCAPE = "\x1b"


@lru_cache(maxsize=4096)
def gsm_septets(char: str) -> int | None:
    """Septets `char` takes in GSM-7 (1, or 2 for the extension table); None if not GSM."""
    if char == ESCAPE:
        return None
    try:
        return len(char.encode("gsm03.38"))
    except UnicodeEncodeError:
        return None


def ucs2_units(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def is_lone_surrogate(char: str) -> bool:
    return 0xD800 <= ord(char) <= 0xDFFF


def _units(char: str, encoding: str) -> int:
    if encoding == UCS2:
        return ucs2_units(char)
    septets = gsm_septets(char)
    if septets is None:
        raise ValueError(f"{char!r} is not in the GSM 7-bit alphabet")
    return septets


def split(text: str, encoding: str) -> list[str]:
    """The parts `text` is sent in: one when it fits a single SMS, else parts of at most 153
    septets / 67 units, never cutting an escape sequence or a surrogate pair."""
    if not text:
        return []
    single, per_part = LIMITS[encoding]
    units = [_units(char, encoding) for char in text]
    if sum(units) <= single:
        return [text]
    parts: list[str] = []
    start = used = 0
    for index, n in enumerate(units):
        if used + n > per_part:
            parts.append(text[start:index])
            start, used = index, 0
        used += n
    parts.append(text[start:])
    return parts


@dataclass(frozen=True)
class Analysis:
    text: str
    encoding: str  # GSM7 or UCS2
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int
    parts: tuple[str, ...]
    unit_limit_single: int
    unit_limit_part: int
    remaining: int  # units left in the last part before another is needed
    non_gsm: tuple[str, ...]  # distinct characters forcing UCS-2, in order of appearance
    invalid: tuple[str, ...]  # distinct characters no phone can show (lone surrogates)

    @property
    def characters(self) -> int:
        return len(self.text)

    @property
    def is_empty(self) -> bool:
        return not self.text

    @property
    def sendable(self) -> bool:
        return bool(self.text) and not self.invalid

    @property
    def problem(self) -> str:
        """Why the text cannot be sent, for staff; empty when it can."""
        if not self.text:
            return "The message is empty."
        if self.invalid:
            codes = ", ".join(f"U+{ord(c):04X}" for c in self.invalid)
            return (
                f"The text contains characters that are not valid Unicode ({codes}: a broken "
                "half of an emoji or similar). Remove them and try again."
            )
        return ""

    @property
    def unit_name(self) -> str:
        return "septets" if self.encoding == GSM7 else "UCS-2 units"


def analyse(text: str) -> Analysis:
    """Everything the preview and the senders need to know about `text`. Never raises."""
    non_gsm = tuple(dict.fromkeys(char for char in text if gsm_septets(char) is None))
    invalid = tuple(dict.fromkeys(char for char in non_gsm if is_lone_surrogate(char)))
    encoding = UCS2 if non_gsm else GSM7
    single, per_part = LIMITS[encoding]
    parts = split(text, encoding)
    units = sum(_units(char, encoding) for char in text)
    last = sum(_units(char, encoding) for char in parts[-1]) if parts else 0
    limit = single if len(parts) <= 1 else per_part
    return Analysis(
        text=text,
        encoding=encoding,
        units=units,
        segments=len(parts),
        parts=tuple(parts),
        unit_limit_single=single,
        unit_limit_part=per_part,
        remaining=limit - last,
        non_gsm=non_gsm,
        invalid=invalid,
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


def _replacement(char: str) -> str:
    if char in _REPLACEMENTS:
        return _REPLACEMENTS[char]
    # Letters with accents GSM lacks (á, ś, ő...) lose the accent: NFKD splits the base letter
    # from its combining marks; ligatures (ﬁ) and full-width forms (Ａ) become plain letters.
    decomposed = "".join(
        c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
    )
    if decomposed and all(gsm_septets(c) is not None for c in decomposed):
        return decomposed
    return char


def gsm_equivalent(text: str) -> str:
    """`text` with look-alike characters replaced by GSM-7 ones; a character with no good
    replacement (an emoji, Arabic) stays as it is."""
    return "".join(char if gsm_septets(char) is not None else _replacement(char) for char in text)
