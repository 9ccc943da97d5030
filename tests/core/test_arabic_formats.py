"""Dates and times written in Arabic without a format of their own read as Arabic writes them
(smsportal/formats/ar), not in the English order with an English comma."""

from __future__ import annotations

from datetime import datetime

from django.template import Context, Template
from django.utils import translation

WHEN = datetime(2026, 12, 2, 7, 6)


def render(text: str, language: str) -> str:
    with translation.override(language):
        return Template(text).render(Context({"when": WHEN}))


def test_a_date_and_time_in_arabic_has_the_day_first_and_the_arabic_comma():
    assert render("{{ when }}", "ar") == "2 ديسمبر 2026، 07:06"
    assert render("{{ when|date:'SHORT_DATETIME_FORMAT' }}", "ar") == "2026-12-02 07:06"


def test_english_keeps_djangos_own():
    assert render("{{ when }}", "en") == "Dec. 2, 2026, 7:06 a.m."
