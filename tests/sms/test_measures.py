"""A value's measure: what it adds to a text, packed in one integer (sms/measures.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from smsportal.sms.encoding import GSM_BASIC, GSM_EXTENDED, analyse
from smsportal.sms.measures import _pack_each, contact_measures, pack, unpack


def test_a_measure_holds_length_doubled_characters_alphabet_and_whether_to_render():
    assert unpack(pack("Kuwait")) == (6, 0, False, False)
    assert unpack(pack("€[x]")) == (4, 3, False, False)
    assert unpack(pack("محمد")) == (4, 0, True, False)
    assert unpack(pack("Sara 😀")) == (6, 0, True, True)  # an emoji: rendered one by one
    assert unpack(pack("\x1b")) == (1, 0, True, True)


@given(st.text(max_size=300))
def test_the_measure_agrees_with_the_encoder(value):
    length, twice, outside, special = unpack(pack(value))
    assert length == len(value)
    if value and not special:
        analysis = analyse(value)
        assert outside == (analysis.encoding != "GSM-7")
        if not outside:
            assert analysis.units == length + twice


GSM = "".join(sorted(GSM_BASIC | GSM_EXTENDED))


@given(
    st.text(GSM, max_size=300) | st.text(GSM + "\x1bمحمد😀é", max_size=40) | st.text(max_size=40)
)
def test_the_shortcut_for_one_septet_characters_measures_as_the_loop_does(value):
    assert pack(value) == _pack_each(value)


def test_a_contact_is_measured_by_placeholder_name_empty_values_left_out():
    measures = contact_measures(phone="+96550000001", name="Sara Ali", attributes={"City": "K"})
    assert set(measures) == {"phone", "name", "first_name", "last_name", "city"}
    assert unpack(measures["first_name"])[0] == 4
    assert "email" not in measures
