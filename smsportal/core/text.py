"""Words staff read: counts with their noun in the right number, thousands separated."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.utils.formats import number_format
from django.utils.timesince import timesince
from django.utils.translation import npgettext_lazy


def credit_figure(amount) -> str:
    """An amount of credits with separators and only the decimals it has: 1,200 · 1.2 · 0.0125
    (the `credits` template filter, and sentences the send service writes)."""
    return f"{Decimal(amount):,.4f}".rstrip("0").rstrip(".") or "0"


def grouped(n: int) -> str:
    """1,204 in the reader's format (the thousands separator of their language)."""
    return number_format(n, force_grouping=True)


def counted(count: int, one: str, many: str | None = None) -> str:
    """'1 recipient', '1,204 recipients' (`many` defaults to `one` + 's')."""
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


# The units of a time span, translated in the portal's own catalogue: Django's Arabic gives
# "11 سنوات" and "100 ساعات" (its humanize gives "منذ 6 دقيقة"), where Arabic's six plural
# forms want "11 سنة" and "100 ساعة".
TIME_SPANS = {
    "year": npgettext_lazy("time span", "%(num)d year", "%(num)d years", "num"),
    "month": npgettext_lazy("time span", "%(num)d month", "%(num)d months", "num"),
    "week": npgettext_lazy("time span", "%(num)d week", "%(num)d weeks", "num"),
    "day": npgettext_lazy("time span", "%(num)d day", "%(num)d days", "num"),
    "hour": npgettext_lazy("time span", "%(num)d hour", "%(num)d hours", "num"),
    "minute": npgettext_lazy("time span", "%(num)d minute", "%(num)d minutes", "num"),
}


def time_since(moment: datetime, depth: int = 2, now: datetime | None = None) -> str:
    """'3 minutes', '1 day, 4 hours' (until `now`, by default now): Django's `timesince` in the
    portal's words."""
    return timesince(moment, now=now, time_strings=TIME_SPANS, depth=depth)
