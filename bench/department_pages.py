"""The contacts, messages and inbox pages at 1,000,000 contacts and 5,000,000 deliveries across
20 departments (issue 22), on PostgreSQL (and SQLite with --sqlite).

    .venv/bin/python bench/department_pages.py [--contacts 1000000] [--deliveries 5000000]
        [--departments 20] [--conversations 100000] [--requests 20] [--sqlite]

Fills a fresh database in SQL: `--contacts` contacts and `--conversations` inbox threads spread
evenly over `--departments` departments, 100 messages per department sharing `--deliveries`
deliveries. Then times, through Django's test client (server time, no network, median of
`--requests` after 3 warm-ups), as an Operator of one department (what the department filters
and their indexes serve) and as a superuser (every department): the contacts page, a page of it
half-way deep (keyset), a name search, the messages list, the inbox. The floors, in the same
run: the smallest page (the lists page with no list: session, navigation, base template) and
the contacts page's own window query run bare through the cursor.
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
from smsportal.departments.models import Department
from smsportal.messaging.models import Message
from smsportal.providers.models import ProviderAccount
contacts, deliveries, departments, conversations = map(int, sys.argv[1:5])
PG = connection.vendor == "postgresql"
def series(n):
    if PG:
        return f"generate_series(1, {int(n)}) AS s(g)"
    return (f"(WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {int(n)})"
            " SELECT g FROM s)")
pad = "lpad(g::text, 7, '0')" if PG else "substr('0000000' || g, -7, 7)"
now = "now()" if PG else "strftime('%Y-%m-%d %H:%M:%f', 'now')"
ago = ("now() - g * interval '1 second'" if PG
       else "strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || g || ' seconds')")
started = time.perf_counter()
account = ProviderAccount.objects.create(name="Bench", kind="kwtsms", username="u", password="p")
made = Department.objects.bulk_create(
    [Department(name=f"Department {i + 1:02d}") for i in range(departments)])
first = min(d.pk for d in made)
messages = Message.objects.bulk_create(
    [Message(account=account, body="bench", encoding="GSM-7", segments=1, status="sent",
             recipient_count=deliveries // (100 * departments),
             department_id=first + i % departments)
     for i in range(100 * departments)], batch_size=1000)
first_message = min(m.pk for m in messages)
with transaction.atomic(), connection.cursor() as cursor:
    cursor.execute(
        "INSERT INTO contacts_contact (phone, name, name_key, email, attributes, measures, "
        "created_at, updated_at, department_id) "
        f"SELECT '+9656' || {pad}, 'Name ' || g, 'name ' || g, '', '{{}}', '{{}}', {now}, {now}, "
        f"{first} + g % {departments} FROM {series(contacts)}")
    cursor.execute(
        "INSERT INTO messaging_delivery (message_id, account_id, phone, status, "
        "provider_message_id, error_code, error_text, segments, attempts, claim, seqno, "
        "confirmed, polls, queued_at, text) "
        f"SELECT {first_message} + g % {len(messages)}, {account.pk}, '+9655' || {pad}, "
        f"'delivered', 'P' || g, '', '', 1, 1, '', '', true, 0, {now}, '' "
        f"FROM {series(deliveries)}")
    cursor.execute(
        "INSERT INTO messaging_conversation (account_id, phone, department_id, last_at, "
        "last_text, last_incoming, unread, incoming, replies, created_at) "
        f"SELECT {account.pk}, '+9657' || {pad}, {first} + g % {departments}, {ago}, 'Hello', "
        f"true, g % 2, 1, 0, {now} FROM {series(conversations)}")
if PG:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
print(json.dumps({"fill_s": round(time.perf_counter() - started, 1), "department": first}))
"""

MEASURE = """
import django, json, statistics, sys, time
django.setup()
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from smsportal.contacts.models import Contact
from smsportal.core.roles import OPERATOR
from smsportal.departments.models import Department
requests, department = int(sys.argv[1]), int(sys.argv[2])
User = get_user_model()
operator = User.objects.create_user("operator", password="x")
operator.groups.add(Group.objects.get(name=OPERATOR))
Department.objects.get(pk=department).members.add(operator)
root = User.objects.create_superuser("root", "", "x")
ids = Contact.objects.filter(department_id=department).order_by("id").values_list("id", flat=True)
middle = ids[ids.count() // 2]  # once, outside the timings
def timed(client, url):
    timings = []
    for i in range(requests + 3):
        t = time.perf_counter()
        response = client.get(url, HTTP_HOST="127.0.0.1")
        assert response.status_code == 200, (url, response.status_code)
        if i >= 3:
            timings.append((time.perf_counter() - t) * 1000)
    return round(statistics.median(timings), 1)
PAGES = {
    "contacts_ms": "/contacts/",
    "contacts_half_way_deep_ms": f"/contacts/?before={middle}",
    "contacts_search_ms": "/contacts/?q=name+12345",
    "messages_ms": "/messages/",
    "inbox_ms": "/messages/inbox/",
}
out = {}
for who, user in (("operator_one_department", operator), ("superuser_all", root)):
    client = Client()
    client.force_login(user)
    out[who] = {name: timed(client, url) for name, url in PAGES.items()}
    out[who]["floor_smallest_page_ms"] = timed(client, "/contacts/lists/")
timings = []
for _ in range(requests):
    t = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, phone, name FROM contacts_contact WHERE department_id = %s "
            "ORDER BY id DESC LIMIT 51", [department])
        cursor.fetchall()
    timings.append((time.perf_counter() - t) * 1000)
out["floor_window_query_ms"] = round(statistics.median(timings), 2)
print(json.dumps(out))
"""


def measure(database_url: str, args) -> dict:
    env = django_env(database_url, SECURE_SSL_REDIRECT="false")
    run = dict(env=env, cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], **run)
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], **run)
    sizes = [args.contacts, args.deliveries, args.departments, args.conversations]
    filled = json.loads(
        subprocess.run([sys.executable, "-c", FILL, *map(str, sizes)], **run).stdout
    )
    measured = subprocess.run(
        [sys.executable, "-c", MEASURE, str(args.requests), str(filled["department"])], **run
    )
    return {
        "contacts": args.contacts,
        "deliveries": args.deliveries,
        "departments": args.departments,
        "conversations": args.conversations,
        "fill_s": filled["fill_s"],
        **json.loads(measured.stdout),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--deliveries", type=int, default=5_000_000)
    parser.add_argument("--departments", type=int, default=20)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--sqlite", action="store_true", help="also on SQLite")
    args = parser.parse_args()
    out = {}
    with ThrowawayPostgres() as pg:
        pg.create_database("departments")
        out["postgres"] = measure(pg.url("departments"), args)
    if args.sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            out["sqlite"] = measure(f"sqlite:///{Path(tmp) / 'departments.sqlite3'}", args)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
