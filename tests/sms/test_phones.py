from __future__ import annotations

import pytest

from smsportal.sms.phones import international_digits, parse_phone, split_pasted


@pytest.mark.parametrize(
    "raw",
    [
        "+965 9711 9440",
        "0096597119440",
        "96597119440",
        "+965-9711-9440",
        "9711 9440",
        "(+965) 97119440",
    ],
)
def test_it_reads_the_usual_ways_of_writing_a_kuwaiti_mobile(raw):
    assert parse_phone(raw, "KW").e164 == "+96597119440"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("hello", "not a number"),
        ("+965 97", "too short"),
        ("+999 12345678", "unknown country code"),
        ("+965 1111 1111", "not a valid number for KW"),
        ("+44 2000 00000", "not a valid number for GB"),  # its own country, not the default
        ("0044 1000 000000", "not a valid number for GB"),
    ],
)
def test_it_gives_the_reason_a_number_is_refused(raw, reason):
    parsed = parse_phone(raw, "KW")

    assert not parsed.valid
    assert parsed.error == reason


def test_pasted_numbers_split_on_lines_commas_and_semicolons():
    assert split_pasted("1\n2, 3;4\r\n\n 5 ") == ["1", "2", "3", "4", "5"]


def test_providers_get_international_digits():
    assert international_digits("+96597119440") == "96597119440"
