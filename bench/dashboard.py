"""Dashboard and reports latency at scale: 5 million deliveries on PostgreSQL.

    .venv/bin/python bench/dashboard.py [--deliveries 5000000] [--requests 30]

Fills a throwaway PostgreSQL with deliveries spread over 60 days, 4 accounts and every status
(generated in SQL), builds the daily summary from them, then times the dashboard and the reports
page through Django's test client (server time, no network). The floor: one COUNT(*) grouped by
status over the deliveries — what a page would pay without the summary.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.postgres import ThrowawayPostgres  # noqa: E402

FILL = """
import django, sys, time
django.setup()
from django.db import connection
from smsportal.messaging.models import Message
from smsportal.providers.models import ProviderAccount
n = int(sys.argv[1])
accounts = [
    ProviderAccount.objects.create(name=f"Account {i}", kind=kind, username="u", password="p")
    for i, kind in enumerate(["kwtsms", "isms", "kalasms", "intellisoftware"])
]
messages = [
    Message.objects.create(account=a, body="bench", encoding="GSM-7", segments=1, status="done")
    for a in accounts
]
started = time.perf_counter()
with connection.cursor() as cursor:
    cursor.execute(
        '''
        INSERT INTO messaging_delivery (message_id, account_id, phone, status, provider_message_id,
            error_code, error_text, segments, cost, attempts, claim, seqno, confirmed, polls,
            queued_at, text)
        SELECT m.id, m.account_id, '+9655' || lpad(mod(g, 10000000)::text, 7, '0'),
               (ARRAY['delivered','delivered','delivered','submitted','failed','undelivered',
                      'unknown','expired','rejected','skipped'])[1 + mod(g, 10)],
               'P' || g,
               CASE WHEN mod(g, 10) IN (4, 5) THEN (1700 + mod(g, 7))::text ELSE '' END, '',
               1, 0.01, 1, '', '', true, 0,
               now() - (mod(g, 60) || ' days')::interval, ''
        FROM generate_series(1, %s) AS g
        JOIN messaging_message m ON m.id = %s + mod(g, 4)
        ''',
        [n, messages[0].pk],
    )
print(round(time.perf_counter() - started, 1))
"""

MEASURE = """
import django, json, statistics, sys, time
django.setup()
from django.db import connection
from django.test import Client
from django.contrib.auth import get_user_model
from smsportal.messaging.daily_stats import rebuild
started = time.perf_counter()
rebuild()
rebuild_s = time.perf_counter() - started
user = get_user_model().objects.create_superuser("bench", "", "x")
client = Client()
client.force_login(user)
out = {"summary_rebuild_s": round(rebuild_s, 1)}
for name, url in [("dashboard", "/"), ("reports_30_days", "/reports/"),
                  ("reports_60_days", "/reports/?since=" + "{since}")]:
    timings = []
    for i in range(int(sys.argv[1]) + 3):
        t = time.perf_counter()
        response = client.get(url, HTTP_HOST="127.0.0.1")
        assert response.status_code == 200, response.status_code
        if i >= 3:
            timings.append((time.perf_counter() - t) * 1000)
    out[name] = {"median_ms": round(statistics.median(timings), 1),
                 "max_ms": round(max(timings), 1)}
t = time.perf_counter()
with connection.cursor() as cursor:
    cursor.execute("SELECT status, count(*) FROM messaging_delivery GROUP BY status")
    cursor.fetchall()
out["floor_group_by_scan_ms"] = round((time.perf_counter() - t) * 1000, 1)
print(json.dumps(out))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=5_000_000)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    with ThrowawayPostgres() as pg:
        pg.create_database("bench")
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "smsportal.settings",
            "DATABASE_URL": pg.url("bench"),
            "DEBUG": "false",
            "SECRET_KEY": "bench-" + "x" * 50,
            "FIELD_ENCRYPTION_KEY": "kJ3y4kQ3m4M9oYg1sQmJ3eX1n8lq1Xl1x1bq8tq0WcM=",
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "LOG_LEVEL": "WARNING",
        }
        run = dict(env=env, cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True)
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], **run)
        subprocess.run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], **run)
        fill_s = subprocess.run([sys.executable, "-c", FILL, str(args.deliveries)], **run).stdout
        from datetime import date, timedelta

        since = (date.today() - timedelta(days=59)).isoformat()
        measure = MEASURE.replace("{since}", since)
        out = subprocess.run([sys.executable, "-c", measure, str(args.requests)], **run).stdout
    figures = {"deliveries": args.deliveries, "fill_s": float(fill_s.strip()), **json.loads(out)}
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
