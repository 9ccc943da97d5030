"""Destinations as staff write them ("KW", "+965 97", "00965") and as they are stored (the
digits of a number prefix, without "+"); the longest-prefix lookup every price and route uses."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

import phonenumbers
from django.utils.translation import gettext as _

MAX_PREFIX = 15  # an E.164 number has at most 15 digits
T = TypeVar("T")


class BadDestination(ValueError):
    """Text that is neither a country code nor a number prefix; `str()` says why."""


@dataclass(frozen=True)
class Destination:
    prefix: str  # digits of the number's start, no "+"
    country: str = ""  # ISO code when given as a country

    @property
    def label(self) -> str:
        return f"{self.country} (+{self.prefix})" if self.country else f"+{self.prefix}"


def parse_destination(text: str) -> Destination:
    """A country's two-letter code (KW) or a number prefix (+96597, 0096597, 965 97)."""
    raw = text.strip()
    if not raw:
        raise BadDestination(_("The destination is empty."))
    if re.fullmatch(r"[A-Za-z]{2}", raw):
        code = phonenumbers.country_code_for_region(raw.upper())
        if not code:
            raise BadDestination(_("“%(code)s” is not a country code.") % {"code": raw})
        return Destination(str(code), raw.upper())
    digits = re.sub(r"[\s\-.()]", "", raw)
    if digits.startswith("+"):
        digits = digits[1:]
    elif digits.startswith("00"):
        digits = digits[2:]
    if not digits.isdigit():
        raise BadDestination(
            _("“%(text)s” is neither a country code (KW) nor a number prefix (+96597).")
            % {"text": raw}
        )
    if digits.startswith("0"):
        raise BadDestination(
            _("“%(text)s” starts with 0: write the prefix with its country code (+965...).")
            % {"text": raw}
        )
    if len(digits) > MAX_PREFIX:
        raise BadDestination(_("“%(text)s” is longer than any phone number.") % {"text": raw})
    return Destination(digits)


def parse_destinations(text: str) -> list[Destination]:
    """Several destinations separated by spaces or commas ("KW, +96597 SA"). A number prefix
    written with spaces inside ("+965 97") must be written without them here."""
    return [parse_destination(part) for part in re.split(r"[\s,;]+", text.strip()) if part]


def digits_of(phone: str) -> str:
    return phone[1:] if phone.startswith("+") else phone


class PrefixMap(Generic[T]):
    """prefix -> value with longest-prefix lookup: only the lengths present are tried, longest
    first, so a lookup is a handful of dict reads however many prefixes there are."""

    def __init__(self, entries: Mapping[str, T] | Iterable[tuple[str, T]]) -> None:
        self.entries: dict[str, T] = dict(entries)
        self.lengths = sorted({len(p) for p in self.entries}, reverse=True)

    def match(self, digits: str) -> str | None:
        """The longest prefix of `digits` in the map, or None."""
        entries = self.entries
        for length in self.lengths:
            if digits[:length] in entries:
                return digits[:length]
        return None

    def __bool__(self) -> bool:
        return bool(self.entries)

    @property
    def longest(self) -> int:
        return self.lengths[0] if self.lengths else 0


def overrides(prefixes: Iterable[str]) -> dict[str, list[str]]:
    """For each prefix, the shorter ones it overrides for the numbers it covers (the longest
    wins): {"96597": ["965"]} - what the price and route pages show beside an overlap."""
    chosen = set(prefixes)
    return {
        prefix: [prefix[:n] for n in range(len(prefix) - 1, 0, -1) if prefix[:n] in chosen]
        for prefix in chosen
    }
