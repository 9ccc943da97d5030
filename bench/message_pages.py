"""Message pages at 1,000,000 deliveries, on SQLite and PostgreSQL.

    .venv/bin/python bench/message_pages.py [--deliveries 1000000] [--requests 30] [--postgres]

Fills a fresh database with one message of `--deliveries` deliveries (generated in SQL, every
status; the database's triggers count them as they go in) beside 200 small messages, then
times through Django's test client (server time, no network, median of `--requests`):
the progress fragment the page polls every second while sending (`#message-live`, as the page
asks for it, and as it is when it draws the recipients table again), the
detail page, a page half a million rows deep, one status's page, and the messages list. Also
times the same pages for a 100-delivery message: flat means the same figure at both sizes (the
two messages' polls are timed in turn, request by request, so both meet the same conditions).
The floor: one `COUNT(*) GROUP BY status` over the big message's deliveries, what every poll
cost before the counts were kept.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.settings_env import django_env  # noqa: E402
from tests.support.postgres import ThrowawayPostgres  # noqa: E402

FILL = """
import django, json, sys, time
django.setup()
from django.db import connection, transaction
from smsportal.messaging.models import Message
from smsportal.providers.models import ProviderAccount
n = int(sys.argv[1])
account = ProviderAccount.objects.create(name="Bench", kind="kwtsms", username="u", password="p")
def message():
    return Message.objects.create(account=account, body="bench", encoding="GSM-7", segments=1,
                                  status="sending", recipient_count=n)
small = [message() for _ in range(200)]
big = message()
STATUSES = ["delivered"] * 5 + ["submitted", "queued", "sending", "failed", "unknown"]
if connection.vendor == "postgresql":
    series, pad = "generate_series(1, %s) AS s(g)", "lpad(g::text, 7, '0')"
    pick = "(ARRAY[" + ",".join(f"'{s}'" for s in STATUSES) + "])[1 + mod(g, 10)]"
    now = "now()"
else:
    series = ("(WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < %s) "
              "SELECT g FROM s)")
    pad = "substr('0000000' || g, -7, 7)"
    whens = " ".join(f"WHEN {i} THEN '{s}'" for i, s in enumerate(STATUSES))
    pick = f"CASE g % 10 {whens} END"
    now = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
def fill(message_id, count):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO messaging_delivery (message_id, account_id, phone, status, "
            "provider_message_id, error_code, error_text, segments, attempts, claim, seqno, "
            "confirmed, polls, queued_at, text) "
            f"SELECT %s, %s, '+9655' || {pad}, {pick}, 'P' || g, '', '', 1, 1, '', '', "
            f"true, 0, {now}, '' FROM {series}",
            [message_id, account.pk, count],
        )
started = time.perf_counter()
with transaction.atomic():
    for m in small:
        fill(m.pk, 100)
    fill(big.pk, n)
print(json.dumps({"fill_s": round(time.perf_counter() - started, 1), "big": big.pk,
                  "small": small[-1].pk}))
"""

MEASURE = """
import django, html, json, re, statistics, sys, time
django.setup()
from django.db import connection
from django.test import Client
from django.contrib.auth import get_user_model
from smsportal.messaging.models import Delivery
requests, big, small = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
user = get_user_model().objects.create_superuser("bench", "", "x")
client = Client()
client.force_login(user)
def timed(url, **headers):
    timings = []
    for i in range(requests + 3):
        t = time.perf_counter()
        response = client.get(url, HTTP_HOST="127.0.0.1", **headers)
        assert response.status_code == 200, (url, response.status_code)
        if i >= 3:
            timings.append((time.perf_counter() - t) * 1000)
    return round(statistics.median(timings), 2)
def timed_side_by_side(urls, **headers):
    # The big and the small message's requests taken in turn, so that both meet the same
    # moment of the process and the machine (one after the other, the first measured paid
    # for the warming of the process's caches, and a busy minute fell on one of them only).
    timings = {url: [] for url in urls}
    for i in range(requests + 3):
        for url in urls:
            t = time.perf_counter()
            response = client.get(url, HTTP_HOST="127.0.0.1", **headers)
            assert response.status_code == 200, (url, response.status_code)
            if i >= 3:
                timings[url].append((time.perf_counter() - t) * 1000)
    return [round(statistics.median(timings[url]), 2) for url in urls]
live = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "message-live"}
def poll_url(message):
    # The URL the page itself polls, as its #message-live names it (hx-get).
    page = client.get(f"/messages/{message}/", HTTP_HOST="127.0.0.1").content.decode()
    tag = page.split('<div id="message-live"', 1)[1].split(">", 1)[0]
    return html.unescape(re.search(r'hx-get="([^"]*)"', tag).group(1))
first = Delivery.objects.filter(message_id=big).order_by("id").values_list("id", flat=True)[0]
out = {"big": {}, "small": {}}
# The poll as the page sends it: nothing changed since its table was drawn.
polls = timed_side_by_side([poll_url(big), poll_url(small)], **live)
# A poll that draws the recipients table again (a filter chosen, or the counts moved: at most
# every few seconds while sending), what every poll cost before.
redrawn = timed_side_by_side([f"/messages/{big}/", f"/messages/{small}/"], **live)
for i, (name, message) in enumerate((("big", big), ("small", small))):
    out[name] = {
        "progress_fragment_ms": polls[i],
        "progress_fragment_redrawn_ms": redrawn[i],
        "detail_ms": timed(f"/messages/{message}/"),
        "detail_failed_only_ms": timed(f"/messages/{message}/?status=failed"),
    }
half = Delivery.objects.filter(message_id=big).count() // 2  # once, outside the timings
out["big"]["detail_half_way_deep_ms"] = timed(f"/messages/{big}/?after={first + half}")
out["list_ms"] = timed("/messages/")
t = time.perf_counter()
with connection.cursor() as cursor:
    cursor.execute(
        "SELECT status, count(*) FROM messaging_delivery WHERE message_id = %s GROUP BY status",
        [big],
    )
    cursor.fetchall()
out["floor_group_by_ms"] = round((time.perf_counter() - t) * 1000, 1)
print(json.dumps(out))
"""


def measure(database_url: str, deliveries: int, requests: int) -> dict:
    env = django_env(database_url, SECURE_SSL_REDIRECT="false")
    run = dict(env=env, cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], **run)
    filled = json.loads(subprocess.run([sys.executable, "-c", FILL, str(deliveries)], **run).stdout)
    args = [str(requests), str(filled["big"]), str(filled["small"])]
    out = json.loads(subprocess.run([sys.executable, "-c", MEASURE, *args], **run).stdout)
    return {"deliveries": deliveries, "fill_s": filled["fill_s"], **out}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'pages.sqlite3'}"
        out["sqlite"] = measure(url, args.deliveries, args.requests)
    if args.postgres:
        with ThrowawayPostgres() as pg:
            pg.create_database("pages")
            out["postgres"] = measure(pg.url("pages"), args.deliveries, args.requests)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
