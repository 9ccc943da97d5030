"""What a placeholder's value adds to a text, packed into one integer per field and stored with
each contact (`Contact.measures`), so that the preview of a personalised text groups a million
recipients in SQL by these integers without reading a single name (messaging/personal.py).

A measure holds the value's length in characters, how many of them count twice in the standard
alphabet (€ [ ] { } ^ ~ | \\ and form feed), whether any is outside that alphabet, and whether
counting by length could differ from cutting the real text into parts (a character outside the
Basic Multilingual Plane, an escape character, or an absurd number of doubled ones): such
recipients are rendered one by one instead. An empty value has no measure.
"""

from __future__ import annotations

from collections.abc import Mapping

from .encoding import GSM_BASIC, gsm_septets
from .placeholders import contact_values

TWICE_LIMIT = 1024


def pack(value: str) -> int:
    if GSM_BASIC.issuperset(value):  # most values (every character one septet): no loop
        return len(value) * TWICE_LIMIT * 4
    return _pack_each(value)


def _pack_each(value: str) -> int:
    """`pack`, character by character."""
    length = len(value)
    twice = 0
    outside = special = False
    for char in value:
        septets = gsm_septets(char)
        if septets is None or char == "\x1b":
            outside = True
            special = special or ord(char) > 0xFFFF or char == "\x1b"
        elif septets == 2:
            twice += 1
    if twice >= TWICE_LIMIT:
        special, twice = True, TWICE_LIMIT - 1
    return ((length * TWICE_LIMIT + twice) * 2 + outside) * 2 + special


def unpack(measure: int) -> tuple[int, int, bool, bool]:
    """(length, characters counted twice, any outside the standard alphabet, render it)."""
    special, rest = measure % 2, measure // 2
    outside, rest = rest % 2, rest // 2
    return rest // TWICE_LIMIT, rest % TWICE_LIMIT, bool(outside), bool(special)


def is_outside(measure: int) -> bool:
    return bool((measure // 2) % 2)


def contact_measures(
    *, phone: str = "", name: str = "", email: str = "", attributes: Mapping | None = None
) -> dict[str, int]:
    """The measure of every non-empty value a contact gives placeholders (the standard fields,
    first and last name included, and every attribute), by placeholder name."""
    values = contact_values(phone=phone, name=name, email=email, attributes=attributes)
    return {key: pack(value) for key, value in values.items() if value}
