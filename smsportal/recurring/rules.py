"""When a recurring send fires: a pure function of its rule, in the rule's own time zone.

- daily at a time; weekly on chosen days at a time; monthly on a day at a time (the 31st in a
  shorter month is its last day); or every N minutes from the start.
- A local time that does not exist on a day (the hour skipped when clocks go forward) is read
  with the offset before the change, so it fires an hour later by the clock, once; a local time
  that happens twice (clocks go back) fires at the first.
- `starts_on` and `ends_on` are local dates, both included.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils.translation import gettext, gettext_lazy, ngettext

DAILY, WEEKLY, MONTHLY, INTERVAL = "daily", "weekly", "monthly", "interval"
WEEKDAY_NAMES = [
    gettext_lazy("Monday"),
    gettext_lazy("Tuesday"),
    gettext_lazy("Wednesday"),
    gettext_lazy("Thursday"),
    gettext_lazy("Friday"),
    gettext_lazy("Saturday"),
    gettext_lazy("Sunday"),
]
# A rule without an end may not fire more often than this: a mistake would send without limit.
MIN_ENDLESS_INTERVAL = timedelta(hours=1)
# How far ahead a rule is searched for its next occurrence (a weekly rule with no day in its
# date range never fires; the search must stop).
SEARCH_DAYS = 366 * 5


@dataclass(frozen=True)
class Rule:
    frequency: str
    time_of_day: time
    timezone: str
    starts_on: date
    ends_on: date | None = None
    weekdays: tuple[int, ...] = ()  # 0 = Monday
    day_of_month: int | None = None
    interval_minutes: int | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def _fires_on(self, day: date) -> bool:
        if self.frequency == DAILY:
            return True
        if self.frequency == WEEKLY:
            return day.weekday() in self.weekdays
        if self.frequency == MONTHLY and self.day_of_month:
            last = calendar.monthrange(day.year, day.month)[1]
            return day.day == min(self.day_of_month, last)
        return False

    def _local(self, day: date) -> datetime:
        return datetime.combine(day, self.time_of_day, tzinfo=self.zone).astimezone(UTC)

    def after(self, moment: datetime) -> Iterator[datetime]:
        """Occurrences strictly after `moment` (aware), as UTC datetimes, in order."""
        if self.frequency == INTERVAL:
            yield from self._intervals_after(moment)
            return
        day = max(self.starts_on, moment.astimezone(self.zone).date() - timedelta(days=1))
        for _ in range(SEARCH_DAYS):
            if self.ends_on and day > self.ends_on:
                return
            if self._fires_on(day):
                at = self._local(day)
                if at > moment:
                    yield at
            day += timedelta(days=1)

    def _intervals_after(self, moment: datetime) -> Iterator[datetime]:
        step = timedelta(minutes=self.interval_minutes or 0)
        if step <= timedelta(0):
            return
        start = self._local(self.starts_on)
        # The first step after `moment`, counted from the start (no walk through the past).
        at = start if moment < start else start + step * ((moment - start) // step + 1)
        while not self.ends_on or at.astimezone(self.zone).date() <= self.ends_on:
            yield at
            at += step

    def first(self) -> datetime | None:
        """The first occurrence of all."""
        return next(
            self.after(
                datetime.combine(self.starts_on, time.min, tzinfo=self.zone) - timedelta(seconds=1)
            ),
            None,
        )

    def next_after(self, moment: datetime) -> datetime | None:
        return next(self.after(moment), None)

    def upcoming(self, moment: datetime, count: int) -> list[datetime]:
        """The first `count` occurrences after `moment`; none for a count of 0 (the loop below
        stops on a count reached, and an endless rule would never reach 0)."""
        if count <= 0:
            return []
        found = []
        for at in self.after(moment):
            found.append(at)
            if len(found) == count:
                break
        return found

    def describe(self) -> str:
        """In plain words: "Every Monday and Thursday at 09:00 (Asia/Kuwait)"."""
        figures = {"time": f"{self.time_of_day:%H:%M}", "zone": self.timezone}
        if self.frequency == DAILY:
            return gettext("Every day at %(time)s (%(zone)s)") % figures
        if self.frequency == WEEKLY:
            names = [str(WEEKDAY_NAMES[d]) for d in sorted(self.weekdays)]
            days = (
                names[0]
                if len(names) == 1
                else gettext("%(days)s and %(last)s")
                % {"days": gettext(", ").join(names[:-1]), "last": names[-1]}
            )
            return gettext("Every %(days)s at %(time)s (%(zone)s)") % {**figures, "days": days}
        if self.frequency == MONTHLY:
            return gettext("Monthly on day %(day)s at %(time)s (%(zone)s)") % {
                **figures,
                "day": self.day_of_month,
            }
        minutes = self.interval_minutes or 0
        return ngettext(
            "Every minute from %(time)s (%(zone)s)",
            "Every %(count)s minutes from %(time)s (%(zone)s)",
            minutes,
        ) % {**figures, "count": f"{minutes:,}"}

    @property
    def shortest_gap(self) -> timedelta:
        """The least time between two occurrences."""
        if self.frequency == INTERVAL:
            return timedelta(minutes=self.interval_minutes or 0)
        return timedelta(days=1)
