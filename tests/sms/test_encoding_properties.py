"""Properties of the engine over arbitrary Unicode (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from smsportal.sms.encoding import GSM7, UCS2, analyse, gsm_equivalent, gsm_septets

GSM_ALPHABET = "".join(chr(c) for c in range(0x10000) if gsm_septets(chr(c)) is not None)
any_text = st.text(alphabet=st.characters(codec=None), max_size=600)
gsm_text = st.text(alphabet=GSM_ALPHABET, max_size=600)
mixed_text = st.text(alphabet=st.sampled_from(list("ab€[^~😀ж\x1b")), max_size=400)


def units_of(part: str, encoding: str) -> int:
    if encoding == GSM7:
        return sum(gsm_septets(c) for c in part)
    return sum(2 if ord(c) > 0xFFFF else 1 for c in part)


def check(text: str) -> None:
    result = analyse(text)
    assert "".join(result.parts) == text
    assert result.segments == len(result.parts)
    limit = result.unit_limit_single if result.segments <= 1 else result.unit_limit_part
    assert all(0 < units_of(p, result.encoding) <= limit for p in result.parts)
    all_gsm = all(gsm_septets(c) is not None for c in text)
    assert (result.encoding == GSM7) == all_gsm
    assert result.encoding in (GSM7, UCS2)
    assert 0 <= result.remaining <= limit


@settings(max_examples=300)
@given(any_text)
def test_any_unicode_text_is_analysed_without_raising(text):
    check(text)


@settings(max_examples=200)
@given(gsm_text)
def test_gsm_texts_stay_gsm(text):
    check(text)


@settings(max_examples=300)
@given(mixed_text)
def test_escapes_and_surrogate_pairs_at_part_boundaries(text):
    check(text)


@settings(max_examples=200)
@given(any_text)
def test_gsm_equivalent_only_removes_non_gsm_characters_and_is_stable(text):
    replaced = gsm_equivalent(text)

    check(replaced)
    assert set(analyse(replaced).non_gsm) <= set(analyse(text).non_gsm)
    assert gsm_equivalent(replaced) == replaced
