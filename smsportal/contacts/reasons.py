"""An import's reasons for a row (rejected, or imported with a change), in the reader's language.

The importer stores each reason in English (`ImportRejection.reason`, written by parse
processes that know no reader); the import page and the rejected-rows CSV show it through
`translated`, which recognises every sentence the importer writes and gives it in the active
language with its values (line numbers, the phone typed) kept. A reason it does not recognise
(written by an older version) is shown as stored, never half translated."""

from __future__ import annotations

import re

from django.utils.translation import gettext, gettext_lazy, ngettext, pgettext

# The importer's sentences (contacts/importer.py) as patterns, each with its translation.
# Reasons joined by "; " (several changes to one kept row) are translated one by one.
_SENTENCES = [
    (
        re.compile(r"duplicate of line (?P<line>\d+)"),
        gettext_lazy("duplicate of line %(line)s"),
    ),
    (
        re.compile(r"(?P<cells>\d+) cells, but the header has (?P<width>\d+)"),
        gettext_lazy("%(cells)s cells, but the header has %(width)s"),
    ),
    (
        re.compile(r"characters that are not valid in the file's encoding"),
        gettext_lazy("characters that are not valid in the file's encoding"),
    ),
    (
        re.compile(r"a NUL character \(binary data\)"),
        gettext_lazy("a NUL character (binary data)"),
    ),
    (re.compile(r"no phone number"), gettext_lazy("no phone number")),
    (
        re.compile(r"invalid phone number “(?P<phone>.*)”: (?P<why>.+)", re.DOTALL),
        gettext_lazy("invalid phone number “%(phone)s”: %(why)s"),
    ),
    (
        re.compile(r"email address “(?P<email>.*)” is not valid: left out", re.DOTALL),
        gettext_lazy("email address “%(email)s” is not valid: left out"),
    ),
    (
        re.compile(r"the attributes column is not a JSON object: left out"),
        gettext_lazy("the attributes column is not a JSON object: left out"),
    ),
]
_NAME_CUT = re.compile(r"name of (?P<length>[\d,]+) characters cut to (?P<most>\d+)")
# Why a phone number is not valid (smsportal/sms/phones.py), inside "invalid phone number".
_PHONE_REASONS = {
    "too short": gettext_lazy("too short"),
    "too long": gettext_lazy("too long"),
    "unknown country code": gettext_lazy("unknown country code"),
    "wrong length for its region": gettext_lazy("wrong length for its region"),
    "not a number": gettext_lazy("not a number"),
    "not a possible number": gettext_lazy("not a possible number"),
    "empty": gettext_lazy("empty"),
}
_NOT_VALID_FOR = re.compile(r"not a valid number for (?P<country>\S+)")


def translated(reason: str) -> str:
    """`reason` as the importer stored it, in the active language."""
    pieces = [_sentence(piece) for piece in reason.split("; ")]
    if any(piece is None for piece in pieces):
        return reason
    return (pgettext("between items of a list", ";") + " ").join(pieces)


def _sentence(text: str) -> str | None:
    if match := _NAME_CUT.fullmatch(text):
        length = int(match["length"].replace(",", ""))
        return ngettext(
            "name of %(length)s character cut to %(most)s",
            "name of %(length)s characters cut to %(most)s",
            length,
        ) % {"length": f"{length:,}", "most": match["most"]}
    for pattern, translation in _SENTENCES:
        if match := pattern.fullmatch(text):
            values = match.groupdict()
            if "why" in values:
                values["why"] = _phone_reason(values["why"])
            return str(translation) % values
    return None


def _phone_reason(why: str) -> str:
    if why in _PHONE_REASONS:
        return str(_PHONE_REASONS[why])
    if match := _NOT_VALID_FOR.fullmatch(why):
        return gettext("not a valid number for %(country)s") % {"country": match["country"]}
    return why


# What each column of a file becomes (importer.Columns.describe), for the import preview.
_ROLES = {
    "phone": gettext_lazy("phone"),
    "name": gettext_lazy("name"),
    "email": gettext_lazy("email"),
    "attributes (JSON)": gettext_lazy("attributes (JSON)"),
    "attribute": gettext_lazy("attribute"),
}
_FIELD = re.compile(r"the field (?P<placeholder>\{\w+\})")


def column_role(role: str) -> str:
    """A column's role as importer.Columns.describe says it, in the active language."""
    if role in _ROLES:
        return str(_ROLES[role])
    if match := _FIELD.fullmatch(role):
        return gettext("the field %(placeholder)s") % {"placeholder": match["placeholder"]}
    return role
