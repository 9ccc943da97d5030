"""PostgreSQL stopped for a few seconds in the middle of a send, then started again: the worker
comes back by itself, and every delivery ends submitted or `unknown` with a reason, none sent
twice. Runs against its own throwaway cluster, whatever database the suite uses."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import psycopg
import pytest

from tests.faults.conftest import ROOT, wait_for
from tests.support.postgres import ThrowawayPostgres, postgres_bin

pytestmark = pytest.mark.skipif(postgres_bin() is None, reason="PostgreSQL is not installed")

RECIPIENTS = 2_000

SEED = """
from smsportal.messaging.sending import ResolvedRecipients
from tests.support.sending import create_message
from smsportal.providers.models import ProviderAccount
account = ProviderAccount(name="ISMS", kind="isms", base_url="{url}/websmsapi/",
                          username="demo-isms")
account.password = "demo-isms-pass"
account.save()
message = create_message(account=account, body="Outage drill", recipients=ResolvedRecipients(
    phones=[f"+6012{{i:07d}}" for i in range({n})]))
print(message.pk)
"""


def manage(env, *args) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_workers_recover_from_a_database_restart_and_lose_nothing(sandbox):
    sandbox.world.put_account("isms", "demo-isms", "demo-isms-pass", faults={"delay": 0.05})
    with ThrowawayPostgres() as pg:
        pg.create_database("outage")
        env = {
            **os.environ,
            "DATABASE_URL": pg.url("outage"),
            "DEBUG": "false",
            "SECRET_KEY": "outage-" + "x" * 50,
            "FIELD_ENCRYPTION_KEY": "kJ3y4kQ3m4M9oYg1sQmJ3eX1n8lq1Xl1x1bq8tq0WcM=",
            "TASKS_BACKEND": "database",
            "CONN_MAX_AGE": "0",
            "LOG_LEVEL": "WARNING",
        }
        manage(env, "migrate", "-v0")
        message_id = int(
            manage(env, "shell", "-c", SEED.format(url=sandbox.url, n=RECIPIENTS)).splitlines()[-1]
        )
        dsn = f"host=127.0.0.1 port={pg.port} user=postgres dbname=outage"

        def count(status: str) -> int:
            with psycopg.connect(dsn) as db:
                return db.execute(
                    "SELECT count(*) FROM messaging_delivery WHERE status = %s", [status]
                ).fetchone()[0]

        worker = subprocess.Popen(
            [sys.executable, "manage.py", "worker", "--interval", "0.2", "--max-backoff", "1"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for(lambda: count("submitted") >= 200, timeout=60)
            pg.stop("fast")  # every connection dropped, mid-send
            time.sleep(3)
            assert worker.poll() is None  # still alive, waiting for the database
            pg.start()
            wait_for(lambda: count("submitted") >= 400, timeout=60)  # working again by itself

            def settled() -> bool:
                with psycopg.connect(dsn) as db:
                    ready = db.execute(
                        "SELECT count(*) FROM django_tasks_database_dbtaskresult "
                        "WHERE status = 'READY'"
                    ).fetchone()[0]
                return ready == 0 and count("queued") == 0

            wait_for(settled, timeout=120)
            previous = -1
            while (now := count("submitted")) != previous:  # until the live batch finished
                previous = now
                time.sleep(1.5)
            manage(env, "sweep_deliveries", "--older-than", "0")
            wait_for(lambda: count("queued") + count("sending") == 0, timeout=120)
        finally:
            worker.kill()
            worker.wait(timeout=10)

        with psycopg.connect(dsn) as db:
            statuses = dict(
                db.execute(
                    "SELECT status, count(*) FROM messaging_delivery GROUP BY status"
                ).fetchall()
            )
            unexplained = db.execute(
                "SELECT count(*) FROM messaging_delivery WHERE status = 'unknown' "
                "AND error_text = ''"
            ).fetchone()[0]
            message_status = db.execute(
                "SELECT status FROM messaging_message WHERE id = %s", [message_id]
            ).fetchone()[0]
    assert set(statuses) <= {"submitted", "unknown"}, statuses
    assert sum(statuses.values()) == RECIPIENTS
    assert unexplained == 0
    assert message_status == "done"
    assert sandbox.world.duplicates() == {}
