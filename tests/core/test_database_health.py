"""A PostgreSQL connection kept between requests is checked before a request reuses it
(smsportal/core/postgresql): by its socket when the server has said nothing (no round trip), by
Django's `SELECT 1` otherwise; one the server dropped is replaced, never handed to a request.
Runs against its own throwaway cluster, whatever database the suite uses."""

from __future__ import annotations

import select

import psycopg
import pytest
from django.db.utils import ConnectionHandler

from smsportal.core.postgresql.base import DatabaseWrapper
from tests.support.postgres import ThrowawayPostgres, postgres_bin

pytestmark = pytest.mark.skipif(postgres_bin() is None, reason="PostgreSQL is not installed")


@pytest.fixture(scope="module")
def server():
    with ThrowawayPostgres() as pg:
        pg.create_database("health")
        yield pg


@pytest.fixture
def kept(server, monkeypatch, django_db_blocker):
    """A connection as the web process keeps one (CONN_MAX_AGE, CONN_HEALTH_CHECKS), and the
    number of `SELECT 1` checks it made."""
    settings = {
        "ENGINE": "smsportal.core.postgresql",
        "NAME": "health",
        "USER": "postgres",
        "HOST": "127.0.0.1",
        "PORT": server.port,
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }
    wrapper = ConnectionHandler({"default": settings})["default"]
    assert isinstance(wrapper, DatabaseWrapper)
    asked = []
    real = DatabaseWrapper.is_usable

    def counted(self):
        asked.append(1)
        return real(self)

    monkeypatch.setattr(DatabaseWrapper, "is_usable", counted)
    wrapper.asked = asked
    with django_db_blocker.unblock():  # its own server, not the suite's test database
        yield wrapper
        wrapper.close()


def request(wrapper) -> int:
    """One request's worth: the boundary Django marks (request_finished/started), then a query."""
    wrapper.close_if_unusable_or_obsolete()
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_a_healthy_kept_connection_is_reused_without_a_round_trip(kept):
    first = request(kept)
    assert [request(kept) for _ in range(5)] == [first] * 5
    assert kept.asked == []


def test_a_connection_the_server_ended_is_replaced_before_the_request_uses_it(kept, server):
    first = request(kept)
    dsn = f"host=127.0.0.1 port={server.port} user=postgres dbname=health"
    with psycopg.connect(dsn, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [first])
    # The server's goodbye takes a moment to arrive; a request in that moment fails as it
    # would after a SELECT 1 that passed just before the end (smsportal/core/postgresql).
    select.select([kept.connection.fileno()], [], [], 10)

    second = request(kept)  # no error: the check saw the server's goodbye and reconnected

    assert second != first
    assert kept.asked == [1]  # the socket had something to read: Django's check decided


def test_a_server_restart_does_not_fail_the_next_request(kept, server):
    first = request(kept)
    server.stop("fast")
    server.start()

    assert request(kept) != first


def test_without_a_check_the_dropped_connection_would_have_failed_the_request(kept, server):
    """What the check is for: the same drop, checks off, fails the request's query."""
    kept.settings_dict["CONN_HEALTH_CHECKS"] = False
    kept.close()
    first = request(kept)
    server.stop("fast")
    server.start()

    with pytest.raises(Exception, match=r"terminat|closed|connection"):
        request(kept)
    assert first
