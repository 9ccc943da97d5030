"""When a recurring send fires: daily, weekly on days, monthly on a day, every N minutes, in the
schedule's time zone, with its end date."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from smsportal.recurring.rules import DAILY, INTERVAL, MONTHLY, WEEKLY, Rule


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_daily_at_a_local_time_in_its_time_zone():
    rule = Rule(DAILY, time(9, 0), "Asia/Kuwait", date(2026, 12, 1))

    assert rule.upcoming(utc(2026, 12, 1, 5, 0), 3) == [
        utc(2026, 12, 1, 6, 0),
        utc(2026, 12, 2, 6, 0),
        utc(2026, 12, 3, 6, 0),
    ]


def test_weekly_on_chosen_days_and_never_before_the_start():
    rule = Rule(WEEKLY, time(8, 30), "UTC", date(2026, 12, 3), weekdays=(0, 3))  # Mon, Thu

    assert rule.upcoming(utc(2026, 11, 1), 3) == [
        utc(2026, 12, 3, 8, 30),  # Thursday
        utc(2026, 12, 7, 8, 30),  # Monday
        utc(2026, 12, 10, 8, 30),
    ]


def test_monthly_on_the_31st_falls_on_the_last_day_of_shorter_months():
    rule = Rule(MONTHLY, time(12, 0), "UTC", date(2027, 1, 1), day_of_month=31)

    assert [d.date() for d in rule.upcoming(utc(2027, 1, 1), 4)] == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
    ]


def test_the_end_date_is_the_last_day_included():
    rule = Rule(DAILY, time(10, 0), "UTC", date(2026, 12, 1), ends_on=date(2026, 12, 2))

    assert rule.upcoming(utc(2026, 11, 30), 5) == [utc(2026, 12, 1, 10), utc(2026, 12, 2, 10)]
    assert rule.next_after(utc(2026, 12, 2, 10)) is None


def test_every_n_minutes_counts_from_the_start():
    rule = Rule(INTERVAL, time(9, 0), "UTC", date(2026, 12, 1), interval_minutes=15)

    assert rule.upcoming(utc(2026, 12, 1, 9, 7), 2) == [
        utc(2026, 12, 1, 9, 15),
        utc(2026, 12, 1, 9, 30),
    ]
    assert rule.first() == utc(2026, 12, 1, 9, 0)


def test_a_daylight_saving_change_keeps_the_local_time():
    rule = Rule(DAILY, time(9, 0), "Europe/London", date(2027, 3, 27))

    # 27 March 2027 is GMT (UTC+0); the next days are BST (UTC+1).
    assert rule.upcoming(utc(2027, 3, 27), 2) == [utc(2027, 3, 27, 9), utc(2027, 3, 28, 8)]


def test_a_weekly_rule_with_no_day_in_its_range_never_fires():
    rule = Rule(WEEKLY, time(9), "UTC", date(2026, 12, 1), date(2026, 12, 2), weekdays=(6,))

    assert rule.next_after(utc(2026, 11, 1)) is None


def test_descriptions_are_plain_words():
    assert (
        Rule(WEEKLY, time(9), "Asia/Kuwait", date(2026, 12, 1), weekdays=(3, 0)).describe()
        == "Every Monday and Thursday at 09:00 (Asia/Kuwait)"
    )
    assert (
        "Every minute"
        in Rule(INTERVAL, time(9), "UTC", date(2026, 12, 1), interval_minutes=1).describe()
    )


@settings(max_examples=100)
@given(
    st.sampled_from([DAILY, WEEKLY, MONTHLY, INTERVAL]),
    st.sets(st.integers(0, 6), min_size=1),
    st.integers(1, 31),
    st.integers(1, 600),
    st.sampled_from(["UTC", "Asia/Kuwait", "Europe/London", "America/New_York"]),
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2030, 1, 1)),
)
def test_occurrences_are_strictly_increasing_and_after_the_moment(
    frequency, weekdays, day, minutes, zone, moment
):
    rule = Rule(
        frequency,
        time(9, 30),
        zone,
        date(2026, 6, 1),
        weekdays=tuple(weekdays),
        day_of_month=day,
        interval_minutes=minutes,
    )
    moment = moment.replace(tzinfo=UTC)
    found = rule.upcoming(moment, 5)
    assert len(found) == 5
    assert found[0] > moment
    assert all(a < b for a, b in pairwise(found))


def test_no_occurrence_asked_is_none_even_of_an_endless_rule():
    # The schedule with one send left asks for the occurrences after its next one: none. The
    # loop stopped only on a count reached, so an endless rule grew a list until memory ran out
    # (the schedule's page took the web process to 23 GB); an alarm fails it in seconds instead.
    import signal

    def too_long(signum, frame):
        raise TimeoutError("Rule.upcoming(…, 0) does not return")

    rule = Rule(INTERVAL, time(9, 0), "UTC", date(2026, 12, 1), interval_minutes=5)
    previous = signal.signal(signal.SIGALRM, too_long)
    signal.alarm(3)
    try:
        assert rule.upcoming(utc(2026, 12, 2), 0) == []
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
