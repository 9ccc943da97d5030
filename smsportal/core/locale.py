"""Each person's language, time zone and digits, applied to every request they make.

Django's LocaleMiddleware (earlier in MIDDLEWARE) picks the language from the `set_language`
cookie or the browser's Accept-Language: that is what the log-in page and anyone without a
choice of their own get. `UserPreferences` then applies the signed-in person's saved choice.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable
from functools import cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from .models import Digits, Preference


def supported_language(code: str) -> str:
    """The LANGUAGES code for a stored code, or English for anything unknown (a language that
    was removed, a typo in the admin): a page in English beats an error."""
    if code:
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            pass
    return english()


def english() -> str:
    return next(code for code, _name in settings.LANGUAGES if code.split("-")[0] == "en")


# The IANA database's geographic areas: a zone in one of them is a place (Asia/Kuwait). The
# database also holds names that are not: "Factory" and "localtime", POSIX rules ("EST5EDT"),
# fixed offsets with inverted signs ("Etc/GMT-3" is three hours ahead), and old aliases kept for
# compatibility ("US/Eastern", "Japan"), each the duplicate of a place.
PLACE_AREAS = frozenset(
    {
        "Africa",
        "America",
        "Antarctica",
        "Arctic",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
    }
)


def is_place(name: str) -> bool:
    area, slash, _city = name.partition("/")
    return bool(slash) and area in PLACE_AREAS


@cache
def time_zones() -> list[str]:
    """The time zones a person may choose: UTC, then every IANA zone of a place, sorted (the
    choices of the preferences form and of recurring sends)."""
    return ["UTC", *sorted(name for name in zoneinfo.available_timezones() if is_place(name))]


@cache
def known_time_zones() -> frozenset[str]:
    """Every name the IANA database knows (read from disk once: asked on every request)."""
    return frozenset(zoneinfo.available_timezones())


def user_time_zone(name: str) -> zoneinfo.ZoneInfo | None:
    # Any zone the database knows: a choice saved before the list was narrowed still applies.
    if not name or name not in known_time_zones():
        return None
    return zoneinfo.ZoneInfo(name)


def preference_of(user) -> Preference | None:
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.preference
    except Preference.DoesNotExist:
        return None


class UserPreferences:
    """Activates the signed-in person's language and time zone for the request, and writes
    their page's digits as Arabic-Indic when that is their choice."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        preference = preference_of(getattr(request, "user", None))
        if preference is None:
            timezone.deactivate()
            return self.get_response(request)
        if preference.language:
            language = supported_language(preference.language)
            translation.activate(language)
            request.LANGUAGE_CODE = language
        zone = user_time_zone(preference.time_zone)
        if zone:
            timezone.activate(zone)
        else:
            timezone.deactivate()
        try:
            response = self.get_response(request)
        finally:
            timezone.deactivate()
        if preference.digits == Digits.ARABIC:
            arabic_digits_in_page(response)
        return response


# Latin digits to Arabic-Indic ones (U+0660..U+0669).
_TO_ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
# A page cut into: comments, elements whose content is never text for people (script, style,
# textarea: a form field's value must stay as typed), tags, and the text between them.
_PIECES = re.compile(
    r"(<!--.*?-->|<(script|style|textarea)\b.*?</\2\s*>|<[^>]*>)", re.DOTALL | re.IGNORECASE
)
_TAG_NAME = re.compile(r"<\s*(/?)\s*([a-zA-Z][a-zA-Z0-9-]*)")
# What people typed keeps its own digits: user content is marked dir="auto" (or is a <bdi>),
# and translate="no" marks anything else that must be shown exactly (codes, numbers to copy).
_KEEP_AS_IS = re.compile(r"""\bdir\s*=\s*["']?auto\b|\btranslate\s*=\s*["']?no\b""", re.IGNORECASE)
_VOID = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
    "track", "wbr",
}  # fmt: skip


def arabic_digits(html: str) -> str:
    """The text of an HTML page or fragment with Arabic-Indic digits; attributes, scripts,
    styles, form values and user content (see _KEEP_AS_IS) keep theirs."""
    out = []
    keep: list[str] = []  # open elements (by name) inside a kept element, the outermost first
    position = 0
    for match in _PIECES.finditer(html):
        text = html[position : match.start()]
        out.append(text if keep else text.translate(_TO_ARABIC_INDIC))
        piece = match.group(1)
        out.append(piece)
        position = match.end()
        tag = _TAG_NAME.match(piece)
        if not tag or match.group(2):
            continue
        closing, name = tag.group(1) == "/", tag.group(2).lower()
        if name in _VOID or piece.endswith("/>"):
            continue
        if closing:
            if keep and keep[-1] == name:
                keep.pop()
        elif keep:
            if name == keep[0]:
                keep.append(name)  # the same element nested: its close must not end the keep
        elif name == "bdi" or _KEEP_AS_IS.search(piece):
            keep.append(name)
    tail = html[position:]
    out.append(tail if keep else tail.translate(_TO_ARABIC_INDIC))
    return "".join(out)


def arabic_digits_in_page(response: HttpResponse) -> None:
    content_type = response.get("Content-Type", "")
    if response.streaming or not content_type.startswith("text/html"):
        return
    charset = response.charset or "utf-8"
    response.content = arabic_digits(response.content.decode(charset)).encode(charset)
