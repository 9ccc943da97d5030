"""The audit page asked for a year of a busy system: 200,000 entries spread over 365 days.

The page answers with one page of the newest entries in a fixed number of queries, whatever the
volume (keyset paging: no COUNT of the range, no OFFSET), its "Older" link leads on without a gap
or a repeat, and the export streams every matching entry, chunk by chunk, never the whole file
in memory. Timings are not asserted (benchmarks live in bench/): what is asserted is what makes
the time independent of the volume."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, time, timedelta

import pytest
from django.db import connection, reset_queries, transaction
from django.db.models.signals import post_init
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from smsportal.audit.views import PAGE_SIZE
from smsportal.core.models import AuditEntry

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

URL = reverse("audit:index")
EXPORT_URL = reverse("audit:export")
VOLUME = 200_000
OUTSIDE = 25  # entries older than the year asked for: in no page and no file
EVENTS = ["login", "message_sent", "exported", "changed", "logout"]
NAMES = ["marwan", "olivia", "system"]


def fill_a_year() -> tuple[range, dict[str, str]]:
    """VOLUME entries spread evenly over the last 365 days (to now), OUTSIDE more two years ago,
    inserted in bulk (plain INSERTs: a model instance each would take most of the test's time);
    returns their ids and the filters that ask for that year."""
    today = timezone.localdate()
    since = today - timedelta(days=364)
    start = datetime.combine(since, time.min, tzinfo=timezone.get_current_timezone())
    step = (timezone.now() - start) / VOLUME
    long_ago = start - timedelta(days=730)
    stamps = [start + step * n for n in range(VOLUME)]
    stamps += [long_ago + timedelta(minutes=n) for n in range(OUTSIDE)]
    as_stored = connection.ops.adapt_datetimefield_value
    insert = (
        "INSERT INTO core_auditentry"
        " (timestamp, event, action, actor_name, object_pk, object_repr, changes_text)"
        " VALUES (%s, %s, %s, %s, '', %s, '')"
    )
    rows = (
        (as_stored(stamp), EVENTS[n % len(EVENTS)], 3, NAMES[n % len(NAMES)], f"entry {n}")
        for n, stamp in enumerate(stamps)
    )
    newest = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(insert, list(rows))
    if connection.vendor == "postgresql":  # the statistics autovacuum keeps on a live system
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE core_auditentry")
    # Every id the INSERTs took is above `newest`; not newest + 1 onwards on PostgreSQL, whose
    # sequence goes on from ids earlier tests took and rolled back (the teardown once left the
    # year behind for the worker's next tests).
    return range(newest + 1, newest + 1 + len(stamps)), {"since": str(since), "until": str(today)}


def in_range(filters: dict[str, str]):
    zone = timezone.get_current_timezone()
    since = datetime.combine(datetime.fromisoformat(filters["since"]), time.min, tzinfo=zone)
    until = datetime.combine(datetime.fromisoformat(filters["until"]), time.min, tzinfo=zone)
    return AuditEntry.objects.filter(timestamp__gte=since, timestamp__lt=until + timedelta(days=1))


def audit_reads(queries) -> list[str]:
    return [q["sql"] for q in queries if "core_auditentry" in q["sql"]]


def page_ids(response) -> list[int]:
    return [row["entry"].pk for row in response.context["entries"]]


@contextmanager
def database_work() -> Iterator[list[int]]:
    """How much the database works inside the block, in its own unit: SQLite's virtual-machine
    steps (in hundreds), PostgreSQL's rows of the audit table read in this transaction. Not a
    timing: the same on a busy machine as on a quiet one."""
    done = [0]
    if connection.vendor == "sqlite":
        connection.ensure_connection()

        def step():
            done[0] += 1  # returning a false value lets the query go on

        connection.connection.set_progress_handler(step, 100)
        try:
            yield done
        finally:
            connection.connection.set_progress_handler(None, 0)
        return
    rows_read = (
        "SELECT pg_stat_get_xact_tuples_returned('core_auditentry'::regclass)"
        " + pg_stat_get_xact_tuples_fetched('core_auditentry'::regclass)"
    )
    with connection.cursor() as cursor:
        cursor.execute(rows_read)
        before = cursor.fetchone()[0]
    yield done
    with connection.cursor() as cursor:
        cursor.execute(rows_read)
        done[0] = cursor.fetchone()[0] - before


@pytest.fixture(scope="module")
def a_busy_year(django_db_setup, django_db_blocker):
    """The year, written once for the module's tests (each test's own changes are rolled back
    around it) and removed after them."""
    with django_db_blocker.unblock():
        ids, year = fill_a_year()
    yield year
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditentry WHERE id >= %s", [ids[0]])


def test_a_year_of_a_busy_system_answers_one_page_in_as_many_queries_as_a_quiet_day(
    manager_client, a_busy_year, django_assert_max_num_queries
):
    two_years_ago = str(timezone.localdate() - timedelta(days=364 + 730))
    a_quiet_day = {"since": two_years_ago, "until": two_years_ago}  # OUTSIDE entries
    manager_client.get(URL, a_quiet_day)  # sessions, content types: what a first request warms
    reset_queries()  # the log keeps the last 9,000 queries: a full one counts none
    with CaptureQueriesContext(connection) as quiet:
        assert len(manager_client.get(URL, a_quiet_day).context["entries"]) == OUTSIDE
    quiet_queries = len(quiet)

    year = a_busy_year
    reset_queries()
    with django_assert_max_num_queries(quiet_queries) as busy:
        response = manager_client.get(URL, year)

    assert response.status_code == 200
    expected = list(in_range(year).order_by("-timestamp", "-id").values_list("pk", flat=True)[:50])
    assert page_ids(response) == expected and len(expected) == PAGE_SIZE
    assert response.context["older_url"]
    reads = audit_reads(busy.captured_queries)
    assert reads, "the page read no entry"
    for sql in reads:  # each read stops early: none counts, skips or sorts out the whole year
        assert "LIMIT" in sql.upper(), sql
        for whole_year in ("COUNT(", "OFFSET", "DISTINCT"):
            assert whole_year not in sql.upper(), sql


def test_the_older_link_leads_on_from_any_depth_in_the_same_number_of_queries(
    manager_client, a_busy_year, django_assert_max_num_queries
):
    newest_first = list(
        in_range(a_busy_year).order_by("-timestamp", "-id").values_list("pk", flat=True)
    )
    first = manager_client.get(URL, a_busy_year)
    reset_queries()  # the log keeps the last 9,000 queries: a full one counts none
    with CaptureQueriesContext(connection) as on_first:
        manager_client.get(URL, a_busy_year)
    first_queries = len(on_first)

    older = first.context["older_url"]
    assert re.search(r"since=[\d-]+", older) and re.search(r"until=[\d-]+", older)
    # One query more than the first page: the cursor entry's time, read by its primary key.
    reset_queries()
    with django_assert_max_num_queries(first_queries + 1) as on_second:
        second = manager_client.get(URL + older)
    second_queries = len(on_second)
    assert page_ids(second) == list(newest_first[PAGE_SIZE : 2 * PAGE_SIZE])
    assert second.context["first_url"]  # and a way back to the newest

    # Half a year back (page 2,000): the cursor is an entry, not a page number to skip to, and
    # the database starts there: it does about the work of one page, not of 2,000 pages.
    half = VOLUME // 2
    two_years_ago = str(timezone.localdate() - timedelta(days=364 + 730))
    with database_work() as quiet_work:  # a page of a quiet day: OUTSIDE entries
        manager_client.get(URL, {"since": two_years_ago, "until": two_years_ago})
    with database_work() as near_work:
        manager_client.get(URL + older)
    reset_queries()
    with database_work() as deep_work, django_assert_max_num_queries(second_queries) as deep:
        far = manager_client.get(URL, {**a_busy_year, "before": newest_first[half]})
    assert page_ids(far) == list(newest_first[half + 1 : half + 1 + PAGE_SIZE])
    for sql in audit_reads(deep.captured_queries):
        assert "OFFSET" not in sql.upper(), sql
    # Page 2 and page 2,000 of the year each cost about what a quiet day's page costs (on
    # PostgreSQL a plan that sorted the year read all 200,000 rows even for page 2).
    works = (quiet_work[0], near_work[0], deep_work[0])
    assert near_work[0] <= 3 * quiet_work[0] + 100, works
    assert deep_work[0] <= 3 * quiet_work[0] + 100, works

    # The oldest page of the year says there is nothing older (the entries before it are
    # outside the range asked for).
    total = len(newest_first)
    end = manager_client.get(URL, {**a_busy_year, "before": newest_first[total - 2]})
    assert page_ids(end) == [newest_first[total - 1]]
    assert end.context["older_url"] is None


def test_the_export_of_a_year_streams_every_matching_entry_chunk_by_chunk(
    manager_client, a_busy_year
):
    expected = in_range(a_busy_year).count()
    assert expected >= VOLUME
    loaded = [0]

    def one_more(sender, **kwargs):  # an entry read from the database into memory
        loaded[0] += 1

    post_init.connect(one_more, sender=AuditEntry)
    try:
        response = manager_client.get(EXPORT_URL, a_busy_year)
        assert response.status_code == 200
        assert isinstance(response, StreamingHttpResponse)
        rows, chunks, biggest, most_ahead = 0, 0, 0, 0
        tail, previous = "", ""
        for chunk in response.streaming_content:
            chunks += 1
            biggest = max(biggest, len(chunk))
            text = tail + chunk.decode("utf-8-sig" if chunks == 1 else "utf-8")
            lines = text.split("\r\n")
            tail = lines.pop()  # a line still being written
            for line in lines:
                if rows:  # not the header: oldest first
                    stamp = line.split(",", 1)[0]
                    assert stamp >= previous
                    previous = stamp
                rows += 1
            # How many entries are in memory that are not yet in the file.
            most_ahead = max(most_ahead, loaded[0] - (rows - 1))
        response.close()
    finally:
        post_init.disconnect(one_more, sender=AuditEntry)

    assert tail == ""
    assert rows - 1 == expected  # every entry of the year, none from before it
    assert chunks > 1_000 and biggest < 64 * 1024  # written as it goes, not as one answer
    # Read from the database a chunk at a time (iterator(chunk_size=2000)): never more than a
    # chunk ahead of what was written, never the year at once.
    assert most_ahead <= 2_000 + 1, most_ahead
