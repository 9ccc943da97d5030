from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from smsportal.senders.validation import SenderKind, validate_sender


def refusal(kind: str, value: str) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        validate_sender(kind, value)
    return caught.value


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("isms", "6012345678901", SenderKind.NUMERIC),
        ("isms", "MyShop", SenderKind.ALPHANUMERIC),
        ("isms", "ABCDEFGHIJK", SenderKind.ALPHANUMERIC),
        ("kwtsms", "KWT-MESSAGE", SenderKind.ALPHANUMERIC),
        ("kwtsms", "My Shop", SenderKind.ALPHANUMERIC),
        ("intellisoftware", "447700900123", SenderKind.NUMERIC),
        ("intellisoftware", "Intelli", SenderKind.ALPHANUMERIC),
        ("smscentre", "123456789012345", SenderKind.NUMERIC),
    ],
)
def test_it_accepts_what_the_provider_accepts_and_says_which_kind(kind, value, expected):
    assert validate_sender(kind, value) == expected


def test_isms_numeric_senders_have_at_most_13_digits():
    error = refusal("isms", "60123456789012")
    assert error.code == "isms_numeric_length"
    assert "13 digits" in error.message and "14" in error.message


def test_the_same_14_digits_pass_where_only_e164_applies():
    assert validate_sender("intellisoftware", "60123456789012") == SenderKind.NUMERIC


def test_numbers_longer_than_e164_are_refused_everywhere():
    assert refusal("intellisoftware", "1234567890123456").code == "numeric_length"


def test_alphanumeric_senders_have_at_most_11_characters_by_3gpp():
    error = refusal("kalasms", "ABCDEFGHIJKL")
    assert error.code == "alphanumeric_length"
    assert error.message == (
        "A sender name has at most 11 characters (phones show no more); this one has 12."
    )
    assert "3GPP" not in error.message  # staff read it: no standards jargon


def test_kwtsms_takes_only_letters_digits_spaces_and_hyphens():
    error = refusal("kwtsms", "Shop_1")
    assert error.code == "kwtsms_characters"
    assert "KwtSMS" in error.message


def test_characters_outside_the_gsm_alphabet_are_refused():
    error = refusal("isms", "Caf\u00e7")
    assert error.code == "gsm_alphabet"
    assert "\u00e7" in error.message


def test_characters_of_the_gsm_extension_table_are_refused():
    assert refusal("isms", "Shop\u20ac").code == "gsm_alphabet"


def test_a_plus_prefixed_number_gets_told_to_drop_the_plus():
    error = refusal("isms", "+96597119440")
    assert error.code == "numeric_format"


@pytest.mark.parametrize(("value", "code"), [("", "empty"), (" Shop", "whitespace")])
def test_empty_and_padded_values_are_refused(value, code):
    assert refusal("isms", value).code == code


@given(st.text(alphabet="0123456789", min_size=1, max_size=13))
def test_any_up_to_13_digits_is_a_valid_isms_numeric_sender(value):
    assert validate_sender("isms", value) == SenderKind.NUMERIC


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", min_size=12))
def test_any_name_longer_than_11_is_refused(value):
    with pytest.raises(ValidationError):
        validate_sender("kwtsms", value)
