"""The floor of bench/dlr_ingest.py: the portal's SQL for an ISMS delivery report behind a bare
WSGI app, without Django's request machinery (no URL resolver, middleware, request or response
objects, ORM, model instances or settings).

    gunicorn bench.dlr_floor:application      (DATABASE_URL and DLR_FLOOR_SPEC in the environment)

`bench/dlr_ingest.py` starts it with the same gunicorn settings as the portal, against the same
database. What it runs comes from the portal's own code, written to DLR_FLOOR_SPEC (a JSON file)
by `floor_spec()` in a Django process, so the statements are the portal's by construction:

- the account lookup by token, as `delivery_reports.webhooks.account_by_token` makes it (the
  ORM's SQL), kept per process for the same ACCOUNT_CACHE_SECONDS;
- the one statement of `delivery_reports.apply_sql.statement`, with the parameters it gives for
  each ISMS status code (the report's id, its raw parameters and the times are filled in here);
- `last_report_at` written at most once a minute per account and process, as
  `ProviderAccount.note_callback` does.

Like Django (psycopg 3 without server-side binding), it binds parameters on the client, in
autocommit, on one connection per thread kept between requests. A report whose id matches no
delivery answers 404 (the portal would keep it as an unmatched report; the benchmark sends none).
`tests/messaging/test_dlr_floor.py` holds it to the portal's webhook on PostgreSQL.
"""

from __future__ import annotations

import datetime
import json
import os
import threading
import time
from pathlib import Path
from urllib.parse import parse_qsl

import psycopg
from psycopg.types.json import Jsonb

TOKEN_PLACEHOLDER = "<token>"
# Parameters of apply_sql's statement that belong to one report, not to its status code.
PER_REPORT = frozenset({"account", "message_id", "phone", "final_at", "now", "raw"})


def floor_spec() -> dict:
    """What the floor runs, from the portal's code (call it where Django is set up)."""
    from django.db import connection
    from django.db.models import Q
    from django.db.models.sql import UpdateQuery
    from django.utils import timezone

    from smsportal.messaging.delivery_reports import apply_sql, webhooks
    from smsportal.messaging.models import DeliveryEvent
    from smsportal.providers.backends.isms import REPORT_STATUS
    from smsportal.providers.models import CALLBACK_NOTE_INTERVAL, ProviderAccount

    lookup = (
        ProviderAccount.objects.filter(kind="isms", is_active=True)
        .filter(Q(webhook_token=TOKEN_PLACEHOLDER) | Q(previous_webhook_token=TOKEN_PLACEHOLDER))
        .order_by("pk")[:1]  # what .first() adds
    )
    account_sql, account_params = lookup.query.sql_with_params()
    if not account_sql.startswith('SELECT "providers_provideraccount"."id",'):
        raise RuntimeError(f"the account's id is not the lookup's first column: {account_sql}")
    backend = ProviderAccount(kind="isms", username="u", password="p").backend  # never saved
    by_status, statements = {}, set()
    for code in REPORT_STATUS:
        update = backend.parse_delivery_report({"MsgId": "D0", "Status": code})
        sql, params = apply_sql.statement(0, update, DeliveryEvent.Source.WEBHOOK)
        statements.add(sql)
        by_status[code] = {k: v for k, v in params.items() if k not in PER_REPORT}
    if len(statements) != 1:
        raise RuntimeError("apply_sql gives ISMS reports more than one statement")
    # note_callback's UPDATE, as the ORM writes it (the time and the id are filled in per call).
    note = ProviderAccount.objects.filter(pk=0).query.chain(UpdateQuery)
    note.add_update_values({"last_report_at": timezone.now()})
    note_sql, _ = note.get_compiler(connection=connection).as_sql()
    return {
        "account_sql": account_sql,
        "account_params": list(account_params),
        "account_cache_seconds": webhooks.ACCOUNT_CACHE_SECONDS,
        "account_cache_size": webhooks.ACCOUNT_CACHE_SIZE,
        "apply_sql": statements.pop(),
        "by_status": by_status,
        "note_sql": note_sql,
        "note_interval_seconds": CALLBACK_NOTE_INTERVAL.total_seconds(),
    }


class Floor:
    """The WSGI app: `GET /hooks/isms/<token>/dlr?MsgId=…&Status=…`."""

    def __init__(self, spec: dict, conninfo: str) -> None:
        self.spec = spec
        self.conninfo = conninfo
        self._local = threading.local()
        self._accounts: dict[str, tuple[float, int | None]] = {}
        self._noted: dict[int, float] = {}

    def _connection(self) -> psycopg.Connection:
        conn = getattr(self._local, "connection", None)
        if conn is None or conn.closed:
            conn = self._local.connection = psycopg.connect(
                self.conninfo, autocommit=True, cursor_factory=psycopg.ClientCursor
            )
        return conn

    def _account_id(self, cursor: psycopg.Cursor, token: str) -> int | None:
        now = time.monotonic()
        cached = self._accounts.get(token)
        if cached and cached[0] > now:
            return cached[1]
        params = [token if p == TOKEN_PLACEHOLDER else p for p in self.spec["account_params"]]
        cursor.execute(self.spec["account_sql"], params)
        row = cursor.fetchone()
        if len(self._accounts) >= self.spec["account_cache_size"]:
            self._accounts.clear()
        self._accounts[token] = (now + self.spec["account_cache_seconds"], row[0] if row else None)
        return self._accounts[token][1]

    def __call__(self, environ, start_response):
        parts = environ.get("PATH_INFO", "").split("/")
        if len(parts) != 5 or parts[1:3] != ["hooks", "isms"] or parts[4] != "dlr" or not parts[3]:
            return _answer(start_response, "404 Not Found", "not found\n")
        token = parts[3]
        flat = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        msg_id = flat.get("MsgId", "").strip()
        by_status = self.spec["by_status"].get(flat.get("Status", "").strip())
        if not msg_id or len(msg_id) > 64 or by_status is None:
            return _answer(start_response, "400 Bad Request", "malformed report\n")
        with self._connection().cursor() as cursor:
            account = self._account_id(cursor, token)
            if account is None:
                return _answer(start_response, "400 Bad Request", "refused\n")
            now = datetime.datetime.now(datetime.UTC)
            cursor.execute(
                self.spec["apply_sql"],
                {
                    **by_status,
                    "account": account,
                    "message_id": msg_id,
                    "phone": None,
                    "final_at": now,
                    "now": now,
                    "raw": Jsonb(flat),
                },
            )
            matched, _ = cursor.fetchone()
            noted = self._noted.get(account)
            if noted is None or time.monotonic() - noted >= self.spec["note_interval_seconds"]:
                cursor.execute(self.spec["note_sql"], [now, account])
                self._noted[account] = time.monotonic()
        if not matched:
            return _answer(start_response, "404 Not Found", "no delivery has this id\n")
        return _answer(start_response, "200 OK", "OK\n")


def _answer(start_response, status: str, text: str) -> list[bytes]:
    body = text.encode()
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


_app: Floor | None = None
_app_lock = threading.Lock()


def application(environ, start_response):
    """gunicorn's entry point: the Floor of DLR_FLOOR_SPEC on DATABASE_URL, made on first use."""
    global _app
    if _app is None:
        with _app_lock:
            if _app is None:
                spec = json.loads(Path(os.environ["DLR_FLOOR_SPEC"]).read_text())
                _app = Floor(spec, os.environ["DATABASE_URL"])
    return _app(environ, start_response)
