"""The Arabic catalogue is complete, and the committed .mo is the compiled .po (a fresh machine
has no system gettext to compile it: scripts/compile_messages.py does, in `make messages`)."""

from __future__ import annotations

import gettext
import re
from collections import Counter
from pathlib import Path

import polib
import pytest
from django.conf import settings

PO = Path(settings.BASE_DIR) / "locale" / "ar" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w*)\}")


@pytest.fixture(scope="module")
def catalogue() -> polib.POFile:
    return polib.pofile(str(PO))


def _key(entry) -> tuple:
    return (entry.msgctxt or "", entry.msgid, entry.msgid_plural or "")


def _text(entry) -> tuple:
    if entry.msgid_plural:
        return tuple(entry.msgstr_plural[i] for i in sorted(entry.msgstr_plural))
    return (entry.msgstr,)


def test_no_entry_is_untranslated_or_fuzzy(catalogue):
    assert [e.msgid for e in catalogue.untranslated_entries()] == []
    assert [e.msgid for e in catalogue.fuzzy_entries()] == []
    assert not catalogue.metadata_is_fuzzy
    assert [e.msgid for e in catalogue.obsolete_entries()] == []


def test_no_message_is_in_the_catalogue_twice(catalogue):
    """Two engineers adding the same msgid at the end of the file: gettext's own tools (make
    messages) refuse such a catalogue, and only the last of the two would count."""
    counted = Counter((e.msgctxt or "", e.msgid) for e in catalogue)
    assert [key for key, n in counted.items() if n > 1] == []


def test_every_plural_has_arabics_six_forms(catalogue):
    assert "nplurals=6" in catalogue.metadata["Plural-Forms"]
    for entry in catalogue:
        if entry.msgid_plural:
            forms = [entry.msgstr_plural.get(i, "") for i in range(6)]
            assert all(forms), entry.msgid


def test_translations_keep_every_placeholder(catalogue):
    """Every placeholder stays, and none is invented (a name Python would not find). A plural
    form may leave out the count itself: Arabic says "عضوان" (two members) without a number."""
    for entry in catalogue.translated_entries():
        # A plural's forms may use what its English plural uses ("every %(count)s minutes").
        wanted = set(PLACEHOLDER.findall(entry.msgid + (entry.msgid_plural or "")))
        for text in _text(entry):
            found = set(PLACEHOLDER.findall(text))
            if entry.msgid_plural:
                assert found <= wanted, (entry.msgid, text)
            else:
                assert found == wanted, (entry.msgid, text)


def test_arabic_quotes_with_guillemets(catalogue):
    """Arabic quotes «like this»: English curly quotes in a translation read as foreign (the
    mail merge's column names and its “phone”, a new department's name)."""
    english = [
        (entry.msgid, text)
        for entry in catalogue.translated_entries()
        for text in _text(entry)
        if "“" in text or "”" in text
    ]
    assert english == []


def test_the_committed_mo_is_the_compiled_po(catalogue):
    compiled = {_key(e): _text(e) for e in polib.mofile(str(MO)) if e.msgid}
    source = {_key(e): _text(e) for e in catalogue.translated_entries()}
    assert compiled == source, "run `make messages` (or scripts/compile_messages.py)"


def test_django_reads_the_mo_with_arabic_plurals():
    with MO.open("rb") as handle:
        translations = gettext.GNUTranslations(handle)
    assert translations.gettext("Dashboard") == "لوحة المعلومات"
    assert translations.plural(0) == 0 and translations.plural(2) == 2
    assert translations.plural(11) == 4 and translations.plural(100) == 5
