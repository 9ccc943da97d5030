"""The translation catalogues, without the empty ones every lookup walked through.

Django builds a language's catalogue from each app's `locale/` folder with Python's `gettext`,
which for `en_GB` also loads `en`: Django and its contrib apps ship an `en` catalogue holding
nothing but its header, and each one is chained behind the merged catalogue as a fallback. A
string with no translation — every English string of ours, and in Arabic each one the
catalogue lacks (it falls back to English) — then went down six empty catalogues before coming
back unchanged: half the time of every `gettext` call. An empty catalogue can never answer, so
leaving it out of the chain gives the same string, one lookup sooner.
"""

from __future__ import annotations

import gettext as gettext_module

from django.conf import settings
from django.utils.translation import trans_real


def answers_nothing(catalogue: gettext_module.NullTranslations) -> bool:
    """Whether `catalogue` gives back every message unchanged: Python's own placeholder, or a
    compiled catalogue whose only entry is its header (the empty msgid)."""
    if type(catalogue) is gettext_module.NullTranslations:
        return True
    if type(catalogue) is gettext_module.GNUTranslations:
        return all(key == "" for key in catalogue._catalog)
    return False  # Django's own translations (a language's fallback to the default one)


def prune_empty_fallbacks(translation: gettext_module.NullTranslations) -> None:
    """Take the catalogues that answer nothing out of `translation`'s chain of fallbacks, in
    place; the others keep their order (and are pruned in turn)."""
    current = translation
    while current is not None:
        fallback = current._fallback
        while fallback is not None and answers_nothing(fallback):
            fallback = fallback._fallback
        current._fallback = fallback
        current = fallback


def prune_languages() -> None:
    """Build each language's translation (Django caches it for the process) without its empty
    fallbacks: at start-up, before the first request builds them."""
    for code, _name in settings.LANGUAGES:
        prune_empty_fallbacks(trans_real.translation(code))
