"""A long list of values as one query parameter, for `field__in=`.

Django turns `id__in=[…1,600 ids…]` into a placeholder per value and sends each value through
the field's preparation (a lookup, a conversion, a check): the worker's claim, its read-back and
its outcome lock paid that three times per delivery. Here the list goes as one parameter that
the database unpacks: a JSON array read by `json_each` on SQLite, an array `unnest`ed on
PostgreSQL. Only values from the database or the portal itself go in (ids, provider ids); they
are data, never formatted into the SQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from django.db import connection
from django.db.models.expressions import RawSQL

TYPES = {"bigint": int, "text": str}


def one_parameter(values: Iterable, db_type: str) -> RawSQL:
    """`values` (ints for "bigint", strings for "text") as a subquery for `__in`."""
    convert = TYPES[db_type]
    listed = [convert(value) for value in values]
    if connection.vendor == "postgresql":
        return RawSQL(f"SELECT unnest(%s::{db_type}[])", [listed])  # noqa: S611
    return RawSQL("SELECT value FROM json_each(%s)", [json.dumps(listed)])
