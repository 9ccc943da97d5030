"""Many rows of one model in multi-row INSERT statements, without model instances.

`bulk_create` builds a model instance per row and compiles every field of every row through
the ORM (pre_save, get_db_prep_save, a placeholder each): for the 100,000 deliveries of a large
send that was ~7 s of the confirm step. Here the values that are the same for every row (the
message, the account, the defaults, the time) are adapted once, only the columns that differ
are adapted per row, and each statement carries as many rows as the database's parameter limit
allows. The rows written are the same as `bulk_create` would write: every concrete field gets
its value, its default, or (auto_now / auto_now_add) the time of the insert.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from itertools import islice
from typing import Any

from django.db import connection, models
from django.utils import timezone

MAX_ROWS_PER_STATEMENT = 1000
POSTGRES_MAX_PARAMETERS = 65535  # the wire protocol's limit (a 16-bit count)


def max_parameters() -> int:
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        raw = connection.connection
        return raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return POSTGRES_MAX_PARAMETERS


def _adapter(field: models.Field) -> Callable[[Any], Any]:
    """How one column's Python values become database values: text as text (a choices member
    as its value, as CharField would send it), None as NULL, anything else through the field."""
    if isinstance(field, models.CharField | models.TextField):
        return lambda value: value if value is None or type(value) is str else str(value)
    if isinstance(field, models.JSONField) and connection.vendor == "sqlite":
        # What SQLite's adapt_json_value does, without the field's chain of calls per row.
        encoder = field.encoder
        return lambda v: None if v is None else json.dumps(v, cls=encoder)
    target = field.target_field if field.is_relation else field  # a foreign key: its target's
    if isinstance(target, models.IntegerField) and not field.choices:
        # An int is its own database value (the field would only call int() on it): no
        # per-row trip through the field, the confirm step's largest per-row cost.
        prep = field.get_db_prep_save
        return lambda v: v if v is None or type(v) is int else prep(v, connection)
    return lambda value: None if value is None else field.get_db_prep_save(value, connection)


def insert_rows(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    **constants: Any,
) -> int:
    """Insert `rows` (one value per name in `columns`, in that order) with `constants` (field
    name -> the value every row gets); every other field gets its default. Returns the number
    of rows inserted. Runs in the caller's transaction."""
    meta = model._meta
    now = timezone.now()
    varying = [meta.get_field(name) for name in columns]
    fixed: list[tuple[models.Field, Any]] = []
    for field in meta.concrete_fields:
        if field.primary_key or field.name in columns or field.attname in columns:
            continue
        if field.name in constants:
            value = constants.pop(field.name)
        elif field.attname in constants:
            value = constants.pop(field.attname)
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = now
        else:
            value = field.get_default()
        if isinstance(value, models.Model):
            value = value.pk
        fixed.append((field, value))
    if constants:
        raise TypeError(f"{model.__name__} has no field named {', '.join(constants)}")

    ops = connection.ops
    names = ", ".join(ops.quote_name(f.column) for f in [*varying, *(f for f, _ in fixed)])
    fixed_values = tuple(field.get_db_prep_save(value, connection) for field, value in fixed)
    adapters = [_adapter(field) for field in varying]
    if connection.vendor == "sqlite" and varying:
        table = ops.quote_name(meta.db_table)
        return _insert_constants_once(table, names, len(varying), adapters, fixed_values, rows)
    if (
        connection.vendor == "postgresql"
        and varying
        and not any(isinstance(field, models.JSONField) for field in varying)
    ):
        table = ops.quote_name(meta.db_table)
        types = [field.db_type(connection) for field in varying]
        fixed_types = [field.db_type(connection) for field, _ in fixed]
        return _insert_arrays(table, names, types, adapters, fixed_types, fixed_values, rows)
    width = len(varying) + len(fixed)
    per_statement = max(1, min(MAX_ROWS_PER_STATEMENT, max_parameters() // width))
    row_sql = "(" + ", ".join(["%s"] * width) + ")"
    # Only quoted model names and placeholders are formatted in; data goes as parameters.
    head = f"INSERT INTO {ops.quote_name(meta.db_table)} ({names}) VALUES "  # noqa: S608
    full_sql = head + ", ".join([row_sql] * per_statement)

    inserted = 0
    iterator = iter(rows)
    with connection.cursor() as cursor:
        while batch := list(islice(iterator, per_statement)):
            params: list[Any] = []
            for row in batch:
                params.extend([adapt(value) for adapt, value in zip(adapters, row, strict=True)])
                params.extend(fixed_values)
            if len(batch) < per_statement:
                full_sql = head + ", ".join([row_sql] * len(batch))  # the last, shorter one
            cursor.execute(full_sql, params)
            inserted += len(batch)
    return inserted


def _insert_constants_once(table, names, width, adapters, fixed_values, rows) -> int:
    """SQLite: `INSERT … SELECT column1, …, <each constant once> FROM (VALUES (…), (…))`: the
    statement carries only the varying columns per row, the constants once. A 1,000-row
    statement of every column was 15 parameters a row for SQLite to bind and a long text for
    Django to rewrite (each `%s` to `?`, a regular-expression pass): for one varying column,
    a tenth of both. SQLite names a VALUES list's columns column1, column2, …, and inserts
    its rows in their order (ids follow the rows, as with the plain multi-row INSERT)."""
    picked = ", ".join([f"column{i + 1}" for i in range(width)] + ["%s"] * len(fixed_values))
    row_sql = "(" + ", ".join(["%s"] * width) + ")"
    per_statement = max(
        1, min(MAX_ROWS_PER_STATEMENT, (max_parameters() - len(fixed_values)) // width)
    )

    def sql(count: int) -> str:
        values = ", ".join([row_sql] * count)
        # Only quoted model names and placeholders are formatted in; data goes as parameters.
        return f"INSERT INTO {table} ({names}) SELECT {picked} FROM (VALUES {values})"  # noqa: S608

    full_sql = sql(per_statement)
    inserted = 0
    iterator = iter(rows)
    with connection.cursor() as cursor:
        while batch := list(islice(iterator, per_statement)):
            params: list[Any] = list(fixed_values)
            if width == 1:
                (adapt,) = adapters
                params.extend([adapt(row[0]) for row in batch])
            else:
                for row in batch:
                    params.extend([adapt(v) for adapt, v in zip(adapters, row, strict=True)])
            cursor.execute(full_sql if len(batch) == per_statement else sql(len(batch)), params)
            inserted += len(batch)
    return inserted


ROWS_PER_ARRAY_STATEMENT = 10_000


def _insert_arrays(table, names, types, adapters, fixed_types, fixed_values, rows) -> int:
    """PostgreSQL: `INSERT … SELECT v.c0, …, <each constant once> FROM unnest(<an array per
    varying column>) WITH ORDINALITY`: a statement carries one parameter per varying column
    and one per constant, whatever its number of rows, where a multi-row VALUES carried every
    column of every row (psycopg adapted 15 values a delivery, the confirm step's largest
    cost on PostgreSQL). Rows go in their order (ORDER BY the ordinality), so ids follow the
    rows as with the plain multi-row INSERT."""
    width = len(types)
    columns = ", ".join(f"c{i}" for i in range(width))
    arrays = ", ".join(f"%s::{kind}[]" for kind in types)
    constants = ", ".join(f"%s::{kind}" for kind in fixed_types)
    picked = ", ".join([f"v.c{i}" for i in range(width)] + ([constants] if constants else []))
    # Only quoted model names, column types and placeholders are formatted in.
    sql = (
        f"INSERT INTO {table} ({names}) SELECT {picked} "  # noqa: S608
        f"FROM unnest({arrays}) WITH ORDINALITY AS v({columns}, n) ORDER BY v.n"
    )
    inserted = 0
    iterator = iter(rows)
    with connection.cursor() as cursor:
        while batch := list(islice(iterator, ROWS_PER_ARRAY_STATEMENT)):
            by_column = [[adapt(row[i]) for row in batch] for i, adapt in enumerate(adapters)]
            cursor.execute(sql, [*fixed_values, *by_column])  # the SELECT list comes first
            inserted += len(batch)
    return inserted
