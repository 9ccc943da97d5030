"""Phone numbers: parsed and validated with phonenumbers, kept as E.164 inside the portal.

Pure (no models): imports, the compose preview, webhooks and backends all parse through here, so a
number means the same thing everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import phonenumbers
from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_lazy
from phonenumbers import NumberParseException, PhoneMetadata, ValidationResult

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
    if _PLAIN_INTERNATIONAL.fullmatch(text) and (e164 := _valid_as_written(text)):
        return ParsedPhone(raw, e164=e164)
    return _parsed(raw, text, region)


def _parsed(raw: str, text: str, region: str) -> ParsedPhone:
    """`text` (`raw` stripped, `00` made `+`) as phonenumbers reads it: every form, every reason."""
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


# "+" and nothing but ASCII digits, as E.164 writes a number (and as files exported from any
# system hold it): most of an import's rows.
_PLAIN_INTERNATIONAL = re.compile(r"\+[1-9][0-9]{3,14}")


def _valid_as_written(text: str) -> str:
    """`text` ("+" and digits) when it is a valid number already in E.164 form, else "".

    phonenumbers' `parse` is most of the time a number takes (its general patterns for any way
    of writing a number: extensions, letters, punctuation, RFC 3966). For a plus and digits of
    a calling code that is one region's, what `parse`, `is_possible_number_with_reason`,
    `is_valid_number` and `format_number(E164)` do comes down to the steps below, on the same
    metadata. Whenever they could do more — strip a national prefix, keep a leading zero, pick
    one of several regions — this answers "" and the caller parses in full, as it does for an
    invalid number (for its reason). tests/sms/test_phones.py holds it to phonenumbers for
    any such text (hypothesis)."""
    digits = text[1:]
    # parse takes the first 1, 2 or 3 digits that are a known calling code.
    for size in (1, 2, 3):
        code = int(digits[:size])
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return ""
    checks = _region_checks(code)
    national = digits[size:]
    if checks is None or len(national) < 2 or national[0] == "0":  # (a leading zero: kept apart)
        return ""
    national_prefix, general, kinds = checks
    if national_prefix is not None and national_prefix.match(national):
        return ""  # parse may strip it
    length = len(national)
    if length not in general[0] or not general[1].fullmatch(national):
        return ""
    # Valid when it is of any kind (is_valid_number: a type other than UNKNOWN); its length is
    # then one of the general ones, so is_possible_number_with_reason says possible.
    for lengths, pattern in kinds:
        if (not lengths or length in lengths) and pattern.fullmatch(national):
            return text  # format_number(E164): "+", the code, the national number
    return ""


_KINDS = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)


@cache
def _region_checks(code: int) -> tuple | None:
    """For calling code `code` of one region: the national prefix `parse` would try to strip
    (None if none), the general (lengths, pattern) and each kind's. None for a code several
    regions share or no region's (their numbers are parsed in full)."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE[code]
    if len(regions) != 1 or regions[0] == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY:
        return None
    metadata = PhoneMetadata.metadata_for_region(regions[0], None)
    if metadata is None or metadata.country_code != code:
        return None
    general = metadata.general_desc
    if not (general and general.possible_length and general.national_number_pattern):
        return None
    prefix = metadata.national_prefix_for_parsing
    kinds = []
    for kind in _KINDS:
        desc = getattr(metadata, kind)
        if desc is not None and desc.national_number_pattern:
            kinds.append(
                (frozenset(desc.possible_length), re.compile(desc.national_number_pattern))
            )
    return (
        re.compile(prefix) if prefix else None,
        (frozenset(general.possible_length), re.compile(general.national_number_pattern)),
        tuple(kinds),
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
