"""Django's PostgreSQL backend, with the check of a kept connection made without a round trip.

Connections are kept between requests (CONN_MAX_AGE) and checked before a request's first query
reuses one (CONN_HEALTH_CHECKS), so a connection the server dropped — a restart, a terminated
backend, an idle timeout — is replaced instead of failing that request. Django checks with a
`SELECT 1`: a round trip to the server before every request, a second transaction for each
delivery report the webhook applies in one statement, and on a fragment polled every second a
fifth of its queries.

A server that drops a connection says so on the socket: it sends an error message (FATAL,
"terminating connection due to administrator command") and closes it, or the operating system
resets it. Either way the socket of an idle connection has something to read. One with nothing
to read has heard nothing since the server last answered it, and is reused without asking;
anything to read (the goodbye, the end of the stream, or a message we did not expect) and the
`SELECT 1` runs as before. Neither check closes every gap: a connection ended just after
the `SELECT 1` passed, or whose goodbye is still on its way (a fraction of a millisecond on the
local network), fails the request's first query; Django then closes it at the end of that
request (`errors_occurred`). A server that vanished without a word (its machine lost power) is
not seen by either check until the network gives up: the `SELECT 1` would wait as long.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base

try:
    from psycopg.pq import TransactionStatus

    IDLE = TransactionStatus.IDLE
except ImportError:  # psycopg2: nothing_heard() never says yes, every check is Django's own
    IDLE = None


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self) -> None:
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and not self.pool
            and self.nothing_heard()
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()  # Django's check: SELECT 1, closed if it fails

    def nothing_heard(self) -> bool:
        """Whether the connection is open, idle, and its socket has nothing to read: the
        server has sent nothing since its last answer. False whenever that is not certain."""
        connection = self.connection
        try:
            if IDLE is None or connection.closed or connection.info.transaction_status != IDLE:
                return False
            poller = select.poll()
            poller.register(connection.fileno(), select.POLLIN | select.POLLPRI)
            return not poller.poll(0)  # POLLHUP and POLLERR are reported whatever we ask
        except Exception:  # whatever went wrong looking, the server is asked
            return False
