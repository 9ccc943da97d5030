"""The one folding of text for search and keywords (sms.normalise.fold)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsportal.sms.normalise import fold


@pytest.mark.parametrize(
    "variants",
    [
        ("أحمد", "احمد", "إحمد", "آحمد", "ٱحمد"),  # alef forms
        ("مُحَمَّد", "محمد", "مـحـمـد", "ﻣﺤﻤﺪ"),  # marks, tatweel, presentation forms
        ("فاطمة", "فاطمه"),  # teh marbuta
        ("مصطفى", "مصطفي"),  # alef maksura
        ("مؤمن", "مومن"),  # hamza on waw
        ("هيئة", "هييه"),  # hamza on yeh
        ("إلغاء", "الغاء", "إِلْغَاء"),
        ("٩٧١١٥٥٥٥", "۹۷۱۱۵۵۵۵", "97115555"),  # Arabic-Indic, Eastern Arabic-Indic, Latin
        ("STOP", "stop", "Stop", "ＳＴＯＰ"),  # case and full-width letters
    ],
)
def test_spellings_of_one_word_fold_to_one_key(variants):
    assert len({fold(v) for v in variants}) == 1, [fold(v) for v in variants]


def test_different_words_stay_different():
    assert fold("سلام") != fold("سلم")
    assert fold("9711") != fold("9712")


@given(st.text())
def test_folding_twice_changes_nothing(text):
    assert fold(fold(text)) == fold(text)


@given(st.text(alphabet=st.characters(codec="ascii")))
def test_ascii_is_only_case_folded(text):
    assert fold(text) == text.casefold()
