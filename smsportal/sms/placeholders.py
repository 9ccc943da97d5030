"""Placeholders in a message's text: `Hello {first_name|Customer}, your order ships to {city}.`

Pure: no Django, no I/O. Compose, templates, recurring sends, mail merge and dispatch all parse
and render here, so the text a preview shows is the text a recipient gets.

The syntax, for staff:
- `{name}` is replaced by the recipient's value of that field (`name`, `first_name`, `phone`,
  `email`, or any custom contact field or mail-merge column, by its key).
- `{first_name|Customer}` uses "Customer" where the recipient has no first name. The fallback
  is any text up to the closing brace (it may be empty: `{city|}` prints nothing).
- `{{` writes a literal `{` and `}}` a literal `}`; a lone `}` is also kept as it is (nobody
  means anything else by it).
- Names are letters, digits and `_` (not starting with a digit), matched ignoring case.

`parse` never raises: a text it cannot read (an unclosed `{`, an empty `{}`, a name with a space)
gives `errors`, each with the position (0-based offset into the text) staff are shown 1-based.
A text with errors renders its faulty pieces literally, so a preview can still show something.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

NAME = re.compile(r"[^\W\d]\w*")


@dataclass(frozen=True)
class Placeholder:
    name: str  # as written, case-folded (`First_Name` → `first_name`)
    fallback: str | None  # None: no fallback given (a missing value is an error)
    start: int  # offset of its `{` in the text
    source: str  # as written, braces included


@dataclass(frozen=True)
class ParseError:
    position: int  # 0-based offset into the text
    message: str  # plain words for staff, naming the 1-based character

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Template:
    """A text understood: literal pieces and placeholders, in order."""

    source: str
    pieces: tuple[str | Placeholder, ...]
    errors: tuple[ParseError, ...]

    @property
    def placeholders(self) -> tuple[Placeholder, ...]:
        return tuple(p for p in self.pieces if isinstance(p, Placeholder))

    @property
    def names(self) -> tuple[str, ...]:
        """Distinct placeholder names, in order of first appearance."""
        return tuple(dict.fromkeys(p.name for p in self.placeholders))

    @property
    def is_personal(self) -> bool:
        """Whether recipients may get different texts."""
        return bool(self.placeholders)

    @property
    def literal(self) -> str:
        """The text with every placeholder left out (what the fixed part of every message is)."""
        return "".join(p for p in self.pieces if isinstance(p, str))

    def required(self) -> tuple[str, ...]:
        """Names used somewhere without a fallback: a recipient without them cannot be sent."""
        return tuple(dict.fromkeys(p.name for p in self.placeholders if p.fallback is None))

    def unknown(self, known: set[str] | frozenset[str]) -> tuple[str, ...]:
        """Names not among `known` (case-folded field keys)."""
        return tuple(name for name in self.names if name not in known)

    def render(self, values: Mapping[str, object]) -> Rendered:
        return render(self, values)


@dataclass(frozen=True)
class Rendered:
    text: str
    missing: tuple[str, ...]  # names with no value and no fallback (left empty in `text`)

    @property
    def complete(self) -> bool:
        return not self.missing


def _at(position: int) -> str:
    return f"character {position + 1:,}"


@lru_cache(maxsize=256)
def parse(text: str) -> Template:
    """Read `text` into literal pieces and placeholders. Never raises."""
    pieces: list[str | Placeholder] = []
    errors: list[ParseError] = []
    literal: list[str] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "}":
            literal.append("}")
            i += 2 if text.startswith("}}", i) else 1
            continue
        if char != "{":
            # Copy the run up to the next brace at once (texts are mostly literal).
            j = i + 1
            while j < n and text[j] not in "{}":
                j += 1
            literal.append(text[i:j])
            i = j
            continue
        if text.startswith("{{", i):
            literal.append("{")
            i += 2
            continue
        close = text.find("}", i + 1)
        reopen = text.find("{", i + 1)
        if close == -1 or (reopen != -1 and reopen < close):
            errors.append(
                ParseError(
                    i,
                    f"The “{{” at {_at(i)} is never closed: close it with “}}”, or write “{{{{” "
                    "for a literal brace.",
                )
            )
            literal.append("{")
            i += 1
            continue
        inner = text[i + 1 : close]
        source = text[i : close + 1]
        name, bar, fallback = inner.partition("|")
        name = name.strip()
        if not name:
            errors.append(
                ParseError(
                    i, f"The placeholder at {_at(i)} has no field name: write e.g. {{name}}."
                )
            )
        elif not NAME.fullmatch(name):
            errors.append(
                ParseError(
                    i,
                    f"“{source}” at {_at(i)} is not a placeholder: a field name is letters, "
                    "digits and _ (write “{{” for a literal brace).",
                )
            )
        else:
            if literal:
                pieces.append("".join(literal))
                literal = []
            pieces.append(Placeholder(name.casefold(), fallback if bar else None, i, source))
            i = close + 1
            continue
        literal.append(source)
        i = close + 1
    if literal:
        pieces.append("".join(literal))
    return Template(text, tuple(pieces), tuple(errors))


def value_text(value: object) -> str:
    """A field's value as it goes into a text: None is empty; anything else as str()."""
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def render(template: Template | str, values: Mapping[str, object]) -> Rendered:
    """The text for one recipient. `values` maps case-folded names to their values; a missing
    or empty value takes the fallback, or is reported in `missing` (and left empty)."""
    if isinstance(template, str):
        template = parse(template)
    out: list[str] = []
    missing: dict[str, None] = {}
    for piece in template.pieces:
        if isinstance(piece, str):
            out.append(piece)
            continue
        value = value_text(values.get(piece.name))
        if value:
            out.append(value)
        elif piece.fallback is not None:
            out.append(piece.fallback)
        else:
            missing[piece.name] = None
    return Rendered("".join(out), tuple(missing))


STANDARD_FIELDS = {
    "name": "Name",
    "first_name": "First name",
    "last_name": "Last name",
    "phone": "Phone number",
    "email": "Email",
}


def first_name(name: str) -> str:
    """The first word of a full name ("Sara Al-Hassan" → "Sara")."""
    words = name.split()
    return words[0] if words else ""


def last_name(name: str) -> str:
    words = name.split()
    return " ".join(words[1:]) if len(words) > 1 else ""


def contact_values(
    *, phone: str = "", name: str = "", email: str = "", attributes: Mapping | None = None
) -> dict[str, str]:
    """The values a contact gives placeholders: the standard fields and every attribute (a
    custom field's key); the standard ones win over an attribute of the same key."""
    values = {str(k).casefold(): value_text(v) for k, v in (attributes or {}).items()}
    values.update(
        name=name,
        first_name=first_name(name),
        last_name=last_name(name),
        phone=phone,
        email=email,
    )
    return values
