"""The counting rules of 3GPP TS 23.038 / 23.040, with concrete examples."""

from __future__ import annotations

import pytest

from smsportal.sms.encoding import (
    GSM7,
    KEPT_TEXT_LENGTH,
    UCS2,
    _kept_characters,
    analyse,
    distinct_characters,
    gsm_equivalent,
    split,
)


def test_160_gsm_characters_are_one_sms_and_161_are_two():
    assert analyse("a" * 160).segments == 1
    long = analyse("a" * 161)
    assert (long.segments, [len(p) for p in long.parts]) == (2, [153, 8])
    assert long.remaining == 153 - 8


def test_70_ucs2_units_are_one_sms_and_71_are_two():
    assert analyse("ж" * 70).segments == 1
    long = analyse("ж" * 71)
    assert (long.encoding, long.segments, [len(p) for p in long.parts]) == (UCS2, 2, [67, 4])


@pytest.mark.parametrize("char", [*"^{}\\[~]|€", "\x0c"])
def test_extension_characters_cost_two_septets(char):
    result = analyse(char)

    assert (result.encoding, result.units) == (GSM7, 2)
    assert analyse(char * 80).segments == 1
    assert analyse(char * 81).segments == 2


def test_an_extension_character_is_never_split_from_its_escape():
    text = "a" * 152 + "€" + "b" * 10  # the € would straddle septets 153 and 154

    parts = analyse(text).parts

    assert parts[0] == "a" * 152
    assert parts[1].startswith("€")
    assert "".join(parts) == text


def test_an_emoji_counts_two_units_and_moves_whole_to_the_next_part():
    text = "x" * 66 + "😀" + "y" * 10

    result = analyse(text)

    assert result.encoding == UCS2
    assert result.units == 66 + 2 + 10
    assert result.parts[0] == "x" * 66
    assert result.parts[1].startswith("😀")


def test_the_escape_code_itself_forces_ucs2():
    result = analyse("a\x1bb")

    assert result.encoding == UCS2
    assert result.non_gsm == ("\x1b",)


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Ç", GSM7),
        ("ç", UCS2),
        ("é", GSM7),
        ("É", GSM7),
        ("ΔΦΓΛΩΠΨΣΘΞ", GSM7),
        ("Α", UCS2),  # Greek capital alpha, looks Latin, not in the table
        ("Ε", UCS2),
        ("§¤@$£¥èùìòØøÅåÆæßÄÖÑÜäöñüà¡¿", GSM7),
        ("`", UCS2),
        ("مرحبا", UCS2),
    ],
)
def test_which_characters_are_gsm(text, encoding):
    assert analyse(text).encoding == encoding


def test_non_gsm_lists_each_offending_character_once_in_order():
    assert analyse("héllo ç wörld ç “quoted” 😀").non_gsm == ("ç", "“", "”", "😀")


def test_the_empty_text_is_zero_characters_and_cannot_be_sent():
    result = analyse("")

    assert (result.characters, result.segments, result.parts, result.sendable) == (0, 0, (), False)
    assert result.problem == "The message is empty."


def test_a_lone_surrogate_is_reported_not_a_crash():
    result = analyse("ok \ud83d broken")

    assert result.invalid == ("\ud83d",)
    assert not result.sendable
    assert "U+D83D" in result.problem


def test_split_is_what_analyse_uses():
    text = "word " * 70
    assert tuple(split(text, GSM7)) == analyse(text).parts
    assert split("", GSM7) == []


def test_split_refuses_a_non_gsm_text_as_gsm():
    with pytest.raises(ValueError, match="not in the standard SMS alphabet"):
        split("😀" * 200, GSM7)


@pytest.mark.parametrize(
    ("typed", "gsm"),
    [
        ("It’s “smart” – really…", 'It\'s "smart" - really...'),
        ("non\u00a0breaking\u2009thin", "non breaking thin"),
        ("façade", "faÇade"),
        ("ΑΒΓ", "ABΓ"),
        ("naïve café", "naive café"),
        ("ﬁne", "fine"),
        ("😀 stays", "😀 stays"),
        ("مرحبا", "مرحبا"),
    ],
)
def test_gsm_equivalent_replaces_look_alikes(typed, gsm):
    assert gsm_equivalent(typed) == gsm


def test_gsm_equivalent_saves_segments():
    text = "“Quote” " * 10  # UCS-2 because of the curly quotes: 80 units, 2 parts

    assert analyse(text).segments == 2
    assert analyse(gsm_equivalent(text)).segments == 1


def test_the_character_ceiling_is_the_roomiest_alphabet_that_carries_the_text():
    from smsportal.sms.encoding import LATIN1, EncodingProfile, character_ceiling

    assert character_ceiling("plain [text]", 10) == 1530  # GSM-7: 153 a part
    assert character_ceiling("plain", 1) == 160  # one SMS holds more than one part
    assert character_ceiling("مرحبا", 10) == 670  # Unicode: 67 a part
    latin = EncodingProfile(name="iso", alphabets=(GSM7, LATIN1, UCS2))
    assert character_ceiling("crêpe", 10, latin) == 1340  # Latin-1: 134 a part
    assert character_ceiling("crêpe", 10) == 670
    assert character_ceiling("crêpe 😀", 10, latin) == 670


def test_a_texts_characters_are_kept_only_for_texts_a_message_can_hold():
    """The preview asks a text's characters several times and they are kept for the last few
    texts; a paste longer than any message could be is not held in memory for later."""
    _kept_characters.cache_clear()
    short = "مرحبا " * 10
    assert distinct_characters(short) == frozenset(short)
    assert distinct_characters(short) == frozenset(short)
    assert _kept_characters.cache_info().hits == 1
    huge = "ab" * KEPT_TEXT_LENGTH
    assert distinct_characters(huge) == {"a", "b"}
    assert _kept_characters.cache_info().currsize == 1
