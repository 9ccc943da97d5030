"""Which sender IDs each provider accepts: one function, `validate_sender`, used by the sender-ID
forms and by the sending code before anything reaches a provider.

Each refusal is a ValidationError whose `code` names the rule (`isms_numeric_length`, ...) and
whose message says what was wrong with this value, so staff know what to change.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import models

# 3GPP TS 23.040 §9.1.2.5: an alphanumeric originating address holds at most 11 characters of
# the GSM 7-bit default alphabet (TS 23.038). This is the limit everywhere, not only at one
# provider.
ALPHANUMERIC_MAX = 11
# ITU-T E.164: a phone number has at most 15 digits.
NUMERIC_MAX = 15
# ISMS (sms.com.my): "numeric up to 13 digits, or alphanumeric up to 11 characters".
ISMS_NUMERIC_MAX = 13
# KwtSMS: "sender [alphanumeric only]". Its own sample sender is KWT-MESSAGE, so hyphens are
# allowed, and the document says spaces are sent as "+". Decision: letters, digits, spaces, hyphens.
KWTSMS_ALLOWED = re.compile(r"^[A-Za-z0-9 \-]+$")

_DIGITS = re.compile(r"^[0-9]+$")


class SenderKind(models.TextChoices):
    NUMERIC = "numeric", "Numeric (a phone number)"
    ALPHANUMERIC = "alphanumeric", "Alphanumeric (a name)"


def classify_sender(value: str) -> SenderKind:
    """Digits only is a numeric sender; anything else is alphanumeric."""
    return SenderKind.NUMERIC if _DIGITS.match(value) else SenderKind.ALPHANUMERIC


def _refuse(code: str, message: str, **params: object) -> ValidationError:
    return ValidationError(message, code=code, params=params or None)


def _check_gsm_basic(value: str) -> None:
    import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)

    for char in value:
        try:
            encoded = char.encode("gsm03.38")
        except UnicodeEncodeError:
            encoded = b""
        # A character of the extension table (€, [, ...) takes two septets behind an escape;
        # an originating address has no room for escapes.
        if len(encoded) != 1:
            raise _refuse(
                "gsm_alphabet",
                f"“{char}” cannot be used in a sender ID: a name may hold only plain letters, "
                "digits, spaces and the common punctuation every phone shows.",
            )


def _check_general(value: str, kind: SenderKind) -> None:
    if kind == SenderKind.NUMERIC:
        if len(value) > NUMERIC_MAX:
            raise _refuse(
                "numeric_length",
                f"A numeric sender ID is a phone number of at most {NUMERIC_MAX} digits; "
                f"this one has {len(value)}.",
            )
        return
    if value.startswith("+") and _DIGITS.match(value[1:]):
        raise _refuse(
            "numeric_format",
            "Write a numeric sender ID as digits only, in international form without “+” or "
            "“00” (e.g. 96597119440).",
        )
    if len(value) > ALPHANUMERIC_MAX:
        raise _refuse(
            "alphanumeric_length",
            f"A sender name has at most {ALPHANUMERIC_MAX} characters (phones show no more); "
            f"this one has {len(value)}.",
        )
    _check_gsm_basic(value)


def _check_provider(provider_kind: str, value: str, kind: SenderKind) -> None:
    if provider_kind == "isms" and kind == SenderKind.NUMERIC and len(value) > ISMS_NUMERIC_MAX:
        raise _refuse(
            "isms_numeric_length",
            f"ISMS takes a numeric sender ID of at most {ISMS_NUMERIC_MAX} digits; this one has "
            f"{len(value)}.",
        )
    if provider_kind == "kwtsms" and not KWTSMS_ALLOWED.match(value):
        raise _refuse(
            "kwtsms_characters",
            "KwtSMS takes only letters, digits, spaces and hyphens in a sender ID.",
        )
    # IntelliSoftware's `from` is "the source/sender's phone number"; its gateway also takes a
    # registered name, so the general rules (E.164 digits, or 11 GSM characters) are its rules.


def validate_sender(provider_kind: str, value: str) -> SenderKind:
    """Check `value` as a sender ID for an account of `provider_kind` (a registry kind such as
    "isms"); return whether it is numeric or alphanumeric.

    Raises ValidationError naming the first rule that failed (its `code`): empty, surrounding
    spaces, the general limits (E.164 for numbers, 3GPP for names), then the provider's own.
    """
    if not value:
        raise _refuse("empty", "A sender ID cannot be empty.")
    if value != value.strip():
        raise _refuse("whitespace", "A sender ID cannot start or end with a space.")
    kind = classify_sender(value)
    _check_general(value, kind)
    _check_provider(provider_kind, value, kind)
    return kind
