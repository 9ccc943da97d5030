"""`opted_out` answers which of many numbers opted out in a couple of queries, whichever of the
send or the opt-out list is the larger."""

from __future__ import annotations

import pytest

from smsportal.contacts.models import OptOut
from smsportal.contacts.selectors import opted_out

pytestmark = pytest.mark.django_db


def phones(count: int, start: int = 0) -> list[str]:
    return [f"+9655{i:07d}" for i in range(start, start + count)]


def test_a_large_send_reads_a_short_opt_out_list_once(django_assert_max_num_queries):
    OptOut.objects.bulk_create(OptOut(phone=p) for p in [*phones(3, 10), "+96599999999"])

    with django_assert_max_num_queries(2):
        blocked = opted_out(phones(5000))

    assert blocked == set(phones(3, 10))


def test_a_send_smaller_than_the_opt_out_list_asks_for_its_own_numbers():
    OptOut.objects.bulk_create(OptOut(phone=p) for p in phones(2000, 100))

    assert opted_out(phones(950, 0)) == set(phones(850, 100))
    assert opted_out(["+96550000000"]) == set()


def test_the_sql_written_out_finds_what_the_orms_query_finds(django_assert_num_queries):
    from smsportal.contacts.selectors import opted_out_among

    OptOut.objects.bulk_create(OptOut(phone=p) for p in [*phones(5, 20), "+447700900123"])
    asked = [*phones(30), "+447700900123", "+44770090012", "+4477009001234", "+96550000021 "]
    with django_assert_num_queries(1):
        found = opted_out_among(asked)
    orm = OptOut.objects.filter(phone__in=asked).values_list("phone", flat=True)
    assert sorted(found) == sorted(orm) == sorted([*phones(5, 20), "+447700900123"])
    with django_assert_num_queries(0):
        assert opted_out_among([]) == []
    assert opted_out_among(["' OR 1=1 --"]) == []
