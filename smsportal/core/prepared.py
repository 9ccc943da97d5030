"""Queries asked on every request, their SQL compiled once per database connection.

The ORM compiles a queryset's SQL each time it runs it, and for the short queries every request
makes (the signed-in user, the chosen account, its prices) compiling took several times what
the database took to answer. A `Prepared` query is built once per connection with stand-in
values, its SQL and the converters of its columns kept, and each call runs that SQL with the
call's values through Django's own iterable (model instances, `select_related`, annotations and
`values_list` rows as the queryset gives them). What is read is read afresh on every call: only
the SQL text is kept, never a row. A value of another kind (None, a bool, an int beyond 64 bits)
runs through the ORM as usual, with whatever answer or error the ORM gives it.

A value must be an `int` or a `str` that the query compares as it is (a primary or foreign key,
a code): the SQL is found to hold each stand-in once or more as a parameter, or compiling
refuses (a lookup that rewrites its value, `icontains` say, cannot be prepared). `IN` lists
change the SQL with their length and are not for this.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet

KINDS = (int, str)
LARGEST_INT = 2**63 - 1
# Stand-ins: within a 32-bit integer column's range (Django refuses a lookup beyond a column's
# range at compile time), and unlike any value a query of ours writes itself.
_INT_STAND_IN = 2_061_584_302
_stand_ins = itertools.count()


def _stand_in(kind: type, index: int) -> int | str:
    number = next(_stand_ins)
    if kind is int:
        return _INT_STAND_IN + number * 16 + index
    return f"\x1eprepared-{number}-{index}\x1e"


def fits(value, kind: type) -> bool:
    """Whether `value` can take a stand-in's place as it is: of the very kind (a bool is no
    int), an int within a database integer's range."""
    if type(value) is not kind:
        return False
    return kind is not int or -LARGEST_INT - 1 <= value <= LARGEST_INT


class _CompiledQuery:
    """The queryset's query while one call runs: Django's iterable asks it for a compiler and
    gets the one compiled once, holding this call's values; anything else is the query's."""

    def __init__(self, query, compiler):
        self._query = query
        self._compiler = compiler

    def get_compiler(self, using=None, connection=None, elide_empty=True):
        return self._compiler

    def __getattr__(self, name: str) -> Any:
        return getattr(self._query, name)


class _Compiled:
    def __init__(self, queryset: QuerySet, connection, stand_ins: list):
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        positions = []
        for stand_in in stand_ins:
            found = [i for i, p in enumerate(params) if type(p) is type(stand_in) and p == stand_in]
            if not found:
                raise ValueError(
                    f"{stand_in!r} is not a parameter of the compiled SQL (a lookup that changes "
                    "its value, or a value written into the SQL, cannot be prepared): " + sql
                )
            positions.append(found)
        fields = [column[0] for column in compiler.select[: compiler.col_count]]
        converters = compiler.get_converters(fields)
        # The columns' converters (dates, decimals, JSON, booleans on SQLite) are the same for
        # every call: Django worked them out again for every run of the query.
        compiler.get_converters = lambda expressions: converters
        self.queryset, self.compiler, self.sql = queryset, compiler, sql
        self.params, self.positions = list(params), positions

    def run(self, values: tuple) -> list:
        params = list(self.params)
        for value, places in zip(values, self.positions, strict=True):
            for place in places:
                params[place] = value
        sql, params = self.sql, tuple(params)
        compiler = copy.copy(self.compiler)
        compiler.as_sql = lambda with_limits=True, with_col_aliases=False: (sql, params)
        # A copy of the queryset by its attributes: copy.copy() would pickle it, which runs it.
        queryset = object.__new__(type(self.queryset))
        queryset.__dict__.update(self.queryset.__dict__)
        queryset._query = _CompiledQuery(self.queryset.query, compiler)
        return list(queryset._iterable_class(queryset))


class Prepared:
    """`Prepared(lambda pk: Model.objects.filter(pk=pk), int)`: called with the values (of the
    kinds given), it returns the list the queryset would, its SQL compiled on the first call on
    each database connection."""

    def __init__(self, build: Callable[..., QuerySet], *kinds: type, using: str = DEFAULT_DB_ALIAS):
        if not all(kind in KINDS for kind in kinds):
            raise TypeError(f"a prepared query takes only {KINDS} values, not {kinds}")
        self.build, self.kinds, self.using = build, kinds, using
        self._compiled: WeakKeyDictionary[Any, _Compiled] = WeakKeyDictionary()

    def __call__(self, *values) -> list:
        if len(values) != len(self.kinds):
            raise TypeError(f"expected {len(self.kinds)} values, not {values!r}")
        if not all(map(fits, values, self.kinds)):
            return list(self.build(*values))  # the ORM's own way, whatever it makes of them
        connection = connections[self.using]
        compiled = self._compiled.get(connection)
        if compiled is None:
            compiled = self._compiled[connection] = self._compile(connection)
        return compiled.run(values)

    def _compile(self, connection) -> _Compiled:
        stand_ins = [_stand_in(kind, i) for i, kind in enumerate(self.kinds)]
        queryset = self.build(*stand_ins)
        if queryset._prefetch_related_lookups or queryset.db != self.using:
            raise ValueError("a prepared query reads one database, without prefetch_related")
        return _Compiled(queryset, connection, stand_ins)
