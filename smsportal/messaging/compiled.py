"""Statements the ORM compiles once and a batch runs many times with new values.

A per-request provider (ISMS) claims and records a few rows at a time, so a batch of 1,000
runs its claim and its outcome lock hundreds of times. Building those querysets (filters,
lookups, expressions, the compiler) cost about 2 ms of CPU a claim, eight times the statement
itself, and made the worker's main thread the ceiling of the whole send. Here the ORM still
writes the SQL — the same text it would run — once per batch, with marker values where the
values change from run to run (the time, the ids); each run swaps the markers for the real
values. A marker that the compiled parameters do not contain exactly where expected is an
error at once, never a statement run with a marker in it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection
from django.db.models import QuerySet
from django.db.models.sql import UpdateQuery

# Values no real row or statement holds: the year 1901 and a negative id.
MARKER_TIMES = (
    datetime(1901, 2, 3, 4, 5, 6, 789012, tzinfo=UTC),
    datetime(1901, 3, 4, 5, 6, 7, 890123, tzinfo=UTC),
)
MARKER_ID = -7_654_321_987
MARKER_FIRST, MARKER_LAST = -7_654_321_001, -7_654_321_002  # an id range's bounds


@dataclass(frozen=True, slots=True)
class Compiled:
    """SQL and its parameters, with the positions of each named marker among them."""

    sql: str
    params: tuple
    slots: Mapping[str, tuple[int, ...]]

    @classmethod
    def of(cls, sql: str, params, markers: Mapping[str, object]) -> Compiled:
        params = tuple(params)
        slots = {}
        for name, marker in markers.items():
            found = tuple(i for i, param in enumerate(params) if _same(param, marker))
            if not found:
                raise ValueError(f"the compiled statement has no parameter for {name!r}: {sql}")
            slots[name] = found
        return cls(sql, params, slots)

    def with_values(self, **values) -> list:
        if values.keys() != self.slots.keys():
            raise ValueError(f"expected values for {sorted(self.slots)}, got {sorted(values)}")
        params = list(self.params)
        for name, value in values.items():
            for position in self.slots[name]:
                params[position] = value
        return params

    def execute(self, cursor, **values) -> None:
        cursor.execute(self.sql, self.with_values(**values))


def _same(param, marker) -> bool:
    # Same type first: a list parameter is never compared with a string marker by value.
    return type(param) is type(marker) and param == marker


def update_sql(queryset: QuerySet, **fields) -> tuple[str, tuple]:
    """The UPDATE `queryset.update(**fields)` would run (Django's own steps, without running
    it). Only for a plain filtered queryset: no slicing, ordering or annotations."""
    query = queryset.query.chain(UpdateQuery)
    query.add_update_values(fields)
    query.clear_select_clause()
    sql, params = query.get_compiler(queryset.db).as_sql()
    return sql, tuple(params)


def select_sql(queryset: QuerySet) -> tuple[str, tuple]:
    """The SELECT the queryset would run (call it inside a transaction for select_for_update)."""
    sql, params = queryset.query.get_compiler(queryset.db).as_sql()
    return sql, tuple(params)


def adapted_time(field, value: datetime):
    """A time as the database is given it for `field` (a text on SQLite)."""
    return field.get_db_prep_save(value, connection)
