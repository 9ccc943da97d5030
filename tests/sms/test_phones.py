from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from smsportal.sms import phones
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


def by_phonenumbers(raw: str, region: str) -> tuple[str, str]:
    """What phonenumbers' own parse makes of `raw`: the portal's answer without its shortcut."""
    text = raw.strip()
    text = "+" + text[2:] if text.startswith("00") else text
    parsed = phones._parsed(raw, text, region) if text else parse_phone(raw, region)
    return parsed.e164, str(parsed.error)


# Every calling code phonenumbers knows, a few it does not, and each region's example numbers.
CODES = [*sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE), 0, 8, 28, 999]
EXAMPLES = sorted(
    {
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        for region in phonenumbers.SUPPORTED_REGIONS
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE)
        if (number := phonenumbers.example_number_for_type(region, kind)) is not None
    }
)
plain = st.builds(
    lambda code, rest: f"+{code}{rest}",
    st.sampled_from(CODES),
    st.text("0123456789", max_size=16),
)
# An example number with its last digits changed, cut or lengthened: valid and invalid alike.
near_examples = st.builds(
    lambda number, cut, tail: number[: max(2, len(number) - cut)] + tail,
    st.sampled_from(EXAMPLES),
    st.integers(0, 6),
    st.text("0123456789", max_size=6),
)
written = st.builds(
    lambda number, prefix, pad: pad + (("00" + number[1:]) if prefix else number) + pad,
    st.one_of(plain, near_examples),
    st.booleans(),
    st.sampled_from(["", " ", "\t"]),
)


@settings(max_examples=3_000)
@given(raw=written, region=st.sampled_from(["KW", "GB", "US", "IT", "DE", "AE"]))
@example(raw="+96597119440", region="KW")
@example(raw="+390612345678", region="KW")  # Italy: a leading zero kept
@example(raw="+4402071234567", region="KW")  # a national prefix written after the code
@example(raw="+2612021250", region="KW")  # Madagascar: parse rewrites 7 digits to 9 ("20" + …)
@example(raw="+12015550123", region="KW")  # a code several regions share
@example(raw="+80012345678", region="KW")  # a code of no region
def test_a_number_in_e164_form_reads_as_phonenumbers_reads_it(raw, region):
    parsed = parse_phone(raw, region)
    assert (parsed.e164, str(parsed.error)) == by_phonenumbers(raw, region)


def test_every_regions_example_numbers_take_the_shortcut_and_read_the_same():
    """The shortcut is taken (not only correct when it declines): most valid numbers in E.164
    form never reach phonenumbers' parse."""
    taken = [number for number in EXAMPLES if phones._valid_as_written(number)]
    assert len(taken) > 0.5 * len(EXAMPLES)
    for number in EXAMPLES:
        assert parse_phone(number, "KW").e164 == by_phonenumbers(number, "KW")[0]
    assert phones._valid_as_written("+96597119440") == "+96597119440"
