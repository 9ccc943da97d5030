"""The translation catalogues without their empty fallbacks (core/catalogues.py): every string
comes back as Django's own chain gives it, one lookup sooner."""

from __future__ import annotations

import gettext as gettext_module

import pytest
from django.conf import settings
from django.utils.translation import trans_real

from smsportal.core.catalogues import answers_nothing, prune_empty_fallbacks

LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]


def chain(translation):
    found, current = [], translation._fallback
    while current is not None:
        found.append(current)
        current = current._fallback
    return found


@pytest.mark.parametrize("code", LANGUAGE_CODES)
def test_the_languages_in_use_walk_no_empty_catalogue(code):
    assert not [c for c in chain(trans_real.translation(code)) if answers_nothing(c)]


def test_django_chains_empty_catalogues_which_pruning_removes():
    built = trans_real.DjangoTranslation("en-gb")  # as Django builds it, not the cached one
    assert sum(answers_nothing(c) for c in chain(built)) >= 1
    prune_empty_fallbacks(built)
    assert chain(built) == []


def messages_of(translation) -> tuple[set[str], set[tuple[str, str]]]:
    singular, plural = set(), set()
    for catalogue in [translation, *chain(translation)]:
        for key in getattr(catalogue, "_catalog", {}).keys():  # noqa: SIM118 (Django's has no __iter__)
            if isinstance(key, tuple):
                plural.add((key[0], key[0] + "s"))
            elif "\x04" in key:
                continue  # contexts: checked below through pgettext
            else:
                singular.add(key)
    return singular, plural


@pytest.mark.parametrize("code", LANGUAGE_CODES)
def test_every_string_translates_as_django_translates_it(code):
    unpruned = trans_real.DjangoTranslation(code)
    pruned = trans_real.DjangoTranslation(code)
    prune_empty_fallbacks(pruned)
    singular, plural = messages_of(unpruned)
    singular |= {"No such string anywhere", "Department", "Save", ""}
    plural |= {("%(count)s recipient", "%(count)s recipients"), ("one thing", "many things")}
    for message in singular:
        assert pruned.gettext(message) == unpruned.gettext(message)
        assert pruned.pgettext("month name", message) == unpruned.pgettext("month name", message)
    for one, many in plural:
        for n in (0, 1, 2, 3, 11, 100):
            assert pruned.ngettext(one, many, n) == unpruned.ngettext(one, many, n)


def test_a_catalogue_with_entries_stays_in_the_chain():
    empty, useful = gettext_module.GNUTranslations(), gettext_module.GNUTranslations()
    empty._catalog = {"": "Content-Type: text/plain; charset=UTF-8\n"}
    useful._catalog = {"": "header", "colour": "color"}
    top = gettext_module.GNUTranslations()
    top._catalog = {"": "header"}
    for catalogue in (top, empty, useful):
        catalogue._fallback = None
        catalogue.plural = lambda n: int(n != 1)
    top.add_fallback(empty)
    top.add_fallback(useful)
    top.add_fallback(gettext_module.NullTranslations())
    prune_empty_fallbacks(top)
    assert chain(top) == [useful]
    assert top.gettext("colour") == "color" and top.gettext("other") == "other"
