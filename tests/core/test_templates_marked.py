"""Every template's words are marked for translation: its text and the attributes people read,
once Django's tags are taken out, hold no English word. This reaches the templates no crawl
renders (error pages, the steps of two-factor log-in, an import's preview); the pages as
rendered, with their words from Python, are checked by test_arabic_pages.py."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

from tests.support.untranslated import english_words

TEMPLATES = Path(settings.BASE_DIR) / "templates"
# The API's reference is for developers, in English, and says so (<html lang="en">); the
# admin's own templates are Django's.
NOT_CHECKED = ("api/", "admin/")

_COMMENT = re.compile(r"\{#.*?#\}|\{% *comment *%\}.*?\{% *endcomment *%\}", re.S)
_BLOCKTRANSLATE = re.compile(r"\{% *(blocktranslate|blocktrans)\b.*?\{% *end\1 *%\}", re.S)
_TAG = re.compile(r"\{%.*?%\}|\{\{.*?\}\}", re.S)


def words_left(source: str) -> list[str]:
    """The English words of a template's source, its comments and Django tags taken out."""
    for pattern in (_COMMENT, _BLOCKTRANSLATE, _TAG):
        source = pattern.sub(" ", source)
    return english_words(source)


def test_no_template_holds_words_outside_translation():
    left = {}
    for path in sorted(TEMPLATES.rglob("*.html")):
        name = path.relative_to(TEMPLATES).as_posix()
        if not name.startswith(NOT_CHECKED) and (words := words_left(path.read_text())):
            left[name] = words
    assert left == {}


def test_the_check_finds_a_word_left_unmarked():
    source = (
        '{% load i18n %}<h1>{% translate "Contacts" %}</h1>{# a note #}'
        '<p title="{% translate "Refresh" %}">'
        "{% blocktranslate %}Hi {{ name }}{% endblocktranslate %}</p>"
        '<a aria-label="Next page">{{ page }}</a> <button>Remove</button>'
    )
    assert words_left(source) == [
        "Next page  ⟵  'Next page'",
        "Remove  ⟵  'Remove'",
    ]
