"""Phone numbers: parsed and validated with phonenumbers, kept as E.164 inside the portal.

Pure (no models): imports, the compose preview, webhooks and backends all parse through here, so a
number means the same thing everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_lazy
from phonenumbers import NumberParseException, ValidationResult

# Lazy: a reason is put in the language of whoever reads it (the compose preview in Arabic),
# and stays English where it is stored (an import's rejected rows, see contacts/reasons.py).
_REASONS = {
    ValidationResult.TOO_SHORT: gettext_lazy("too short"),
    ValidationResult.TOO_LONG: gettext_lazy("too long"),
    ValidationResult.INVALID_COUNTRY_CODE: gettext_lazy("unknown country code"),
    ValidationResult.INVALID_LENGTH: gettext_lazy("wrong length for its region"),
}
_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: gettext_lazy("unknown country code"),
    NumberParseException.NOT_A_NUMBER: gettext_lazy("not a number"),
    NumberParseException.TOO_SHORT_AFTER_IDD: gettext_lazy("too short"),
    NumberParseException.TOO_SHORT_NSN: gettext_lazy("too short"),
    NumberParseException.TOO_LONG: gettext_lazy("too long"),
}


def _not_valid_for(country: str) -> str:
    return gettext("not a valid number for %(country)s") % {"country": country}


_not_valid_for_lazy = lazy(_not_valid_for, str)
# What people paste between numbers: new lines, commas, semicolons (and tabs from spreadsheets).
_SEPARATORS = re.compile(r"[\n\r,;\t]+")


@dataclass(frozen=True)
class ParsedPhone:
    raw: str
    e164: str = ""  # set when valid
    error: str = ""  # set when not: a short reason for staff ("too short", "not a number", ...)

    @property
    def valid(self) -> bool:
        return bool(self.e164)


def parse_phone(raw: str, region: str) -> ParsedPhone:
    """Parse what a person typed. `00` and `+` prefixes, spaces, dashes, dots and brackets are
    accepted; a number without a prefix is read in `region` (ISO 3166 code, e.g. "KW")."""
    text = raw.strip()
    if not text:
        return ParsedPhone(raw, error=gettext_lazy("empty"))
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        return ParsedPhone(
            raw, error=_PARSE_REASONS.get(exc.error_type, gettext_lazy("not a number"))
        )
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible not in (ValidationResult.IS_POSSIBLE, ValidationResult.IS_POSSIBLE_LOCAL_ONLY):
        return ParsedPhone(raw, error=_REASONS.get(possible, gettext_lazy("not a possible number")))
    if not phonenumbers.is_valid_number(number):
        return ParsedPhone(raw, error=_not_valid_for_lazy(_country_of(number)))
    return ParsedPhone(
        raw, e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    )


def _country_of(number: phonenumbers.PhoneNumber) -> str:
    """The country a number's own code names (GB for +44), even when the number is invalid:
    `region_code_for_number` answers only for valid numbers, and the default region would
    blame Kuwait for a bad British number. A code several countries share names the main one
    (+1: US); a code of no country (+800) is given as it is."""
    region = phonenumbers.region_code_for_country_code(number.country_code)
    return f"+{number.country_code}" if region in ("ZZ", "001") else region


def split_pasted(text: str) -> list[str]:
    """Split pasted numbers: one per line, or separated by commas or semicolons."""
    return [part.strip() for part in _SEPARATORS.split(text) if part.strip()]


def international_digits(e164: str) -> str:
    """The form most providers want: international digits, no `+`, no `00` (`96597119440`)."""
    return e164.lstrip("+")
