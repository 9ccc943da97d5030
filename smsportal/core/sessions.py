"""Sessions in the database, as Django keeps them (SESSION_ENGINE), read with one statement
written once.

Every request that carries a session cookie reads its row: the same row, by the same key, not
expired, as Django's own store reads it, but without building the query through the ORM each
time (on a page polled every second, putting that query together took five times as long as
the database took to answer it). Writing, expiring and deleting sessions are Django's.
"""

from __future__ import annotations

from functools import cache

from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        model = self.model
        connection = connections[router.db_for_read(model)]
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(_statement(connection.alias), [self.session_key, now])
            row = cursor.fetchone()
        if row is None:  # no such session, or it expired: as Django's, a new one if saved
            self._session_key = None
            return None
        return model(session_key=self.session_key, session_data=row[0])


@cache
def _statement(alias: str) -> str:
    from django.contrib.sessions.models import Session

    quote = connections[alias].ops.quote_name
    meta = Session._meta
    data, key, expires = (
        quote(meta.get_field(name).column)
        for name in ("session_data", "session_key", "expire_date")
    )
    # Names from the model's own metadata; the key and the time are parameters.
    return f"SELECT {data} FROM {quote(meta.db_table)} WHERE {key} = %s AND {expires} > %s"  # noqa: S608
