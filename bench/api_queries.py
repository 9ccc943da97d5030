"""SQL statements and time per request of POST /api/v1/messages and POST /api/v1/preview, in
one process (Django's test client, every middleware), on a throwaway PostgreSQL: where a send's
time goes, without gunicorn or a network in between.

    .venv/bin/python bench/api_queries.py [--requests 300] [--profile] [--show-sql]

Prints JSON: statements per request (and of which kind), the mean time and this process's CPU
time per request of each endpoint; `--profile send|preview` adds cProfile's top functions of
that endpoint, `--show-sql` the statements of one request of each. Not part of bench/run_all:
a tool for finding the send path's costs.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.settings_env import django_env  # noqa: E402
from tests.support.postgres import ThrowawayPostgres  # noqa: E402


def kind_of(sql: str) -> str:
    word = sql.lstrip().split(None, 1)[0].upper()
    if word in ("SAVEPOINT", "RELEASE", "ROLLBACK"):
        return "savepoint" if "SAVEPOINT" in sql.upper() else word.lower()
    return word.lower()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--profile", choices=["send", "preview"], help="cProfile this endpoint")
    parser.add_argument("--show-sql", action="store_true")
    parser.add_argument("--sort", default="cumulative", help="cProfile order: cumulative, tottime")
    parser.add_argument("--top", type=int, default=60)
    args = parser.parse_args()

    with ThrowawayPostgres() as pg:
        pg.create_database("bench")
        os.environ.update(
            django_env(
                pg.url("bench"),
                API_THROTTLE_RATE="600000/minute",  # counted, never reached
                SECURE_SSL_REDIRECT="false",
                LOG_LEVEL="ERROR",
            )
        )
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext, setup_test_environment

        setup_test_environment()
        call_command("migrate", verbosity=0)

        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group

        from smsportal.api.models import ApiKey
        from smsportal.departments.models import Department
        from smsportal.providers.models import ProviderAccount

        user = get_user_model().objects.create_user("bench", password="x" * 20)
        user.groups.add(Group.objects.get(name="Manager"))
        account = ProviderAccount.objects.create(
            name="Bench", kind="kwtsms", username="u", password="p", max_parts=5
        )
        department = Department.objects.create(name="Bench")
        department.members.add(user)
        _key, secret = ApiKey.issue(user, "bench", ["send", "read"], department=department)

        client = Client()
        send_body = json.dumps(
            {"account": account.pk, "to": ["+96597119440"], "text": "Your code is 1234"}
        )
        preview_body = json.dumps({"account": account.pk, "text": "Your code is 1234"})

        def post(path: str, body: str) -> int:
            answer = client.post(
                path,
                body,
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {secret}",
                HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
            )
            if answer.status_code not in (200, 202):
                raise SystemExit(f"{path} answered {answer.status_code}: {answer.content[:500]!r}")
            return answer.status_code

        figures = {}
        for name, path, body in (
            ("preview", "/api/v1/preview", preview_body),
            ("send", "/api/v1/messages", send_body),
        ):
            for _ in range(20):  # warm: imports, caches, the connection
                post(path, body)
            with CaptureQueriesContext(connection) as captured:
                post(path, body)
            statements = [q["sql"] for q in captured.captured_queries]
            started, cpu = time.perf_counter(), time.process_time()
            for _ in range(args.requests):
                post(path, body)
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
            figures[name] = {
                "statements": len(statements),
                "by_kind": dict(Counter(kind_of(sql) for sql in statements)),
                "mean_ms": round(elapsed / args.requests * 1000, 2),
                # this process's CPU only (not PostgreSQL's): steadier on a busy machine
                "cpu_ms": round(cpu / args.requests * 1000, 2),
                "per_second_one_process": round(args.requests / elapsed, 1),
            }
            if args.show_sql:
                figures[name]["sql"] = [sql[:300] for sql in statements]
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            path, body = (
                ("/api/v1/messages", send_body)
                if args.profile == "send"
                else ("/api/v1/preview", preview_body)
            )
            for _ in range(args.requests):
                post(path, body)
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.top)
            print(out.getvalue())
        connection.close()
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
