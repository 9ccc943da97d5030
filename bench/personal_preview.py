"""The per-recipient preview of a personalised text over a list of 1,000,000 contacts.

    .venv/bin/python bench/personal_preview.py [--rows 1000000] [--postgres]

Fills a fresh database with `--rows` contacts (one in 1,000 with an Arabic name, each with a
city), all on one list and a custom field "city", then times `compose_estimate` for
"Hello {first_name|Customer}, see you in {city}" (what the compose preview runs on a keystroke:
distribution of parts, Unicode recipients and why, the first rendered texts). Server time,
median of 5, beside a reference timed in the same run (counting the same recipients in SQL: what
any preview that reads the members pays at least; the preview of one list now reads its kept
counts instead, contacts.ListMeasureCount, so it comes out below it), and their ratio, so a busy
machine shows in both. The fill goes through the membership triggers that keep those counts
(`fill_seconds`). JSON.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.settings_env import django_env  # noqa: E402
from tests.support.postgres import ThrowawayPostgres  # noqa: E402

FILL = """
import json, sys, django
django.setup()
from django.db import connection, transaction
from django.utils import timezone
from smsportal.contacts.models import ContactField, ContactList
from smsportal.sms.measures import contact_measures
FIRST = ["Ali", "Sara", "Omar", "Fatima", "Yousef", "Noor", "Hamad", "Mariam", "Khalid", "Dana"]
CITIES = ["Kuwait", "Salmiya", "Hawally", "Jahra", "Fahaheel"]
rows = int(sys.argv[1])
ContactField.objects.create(key="city", label="City")
target = ContactList.objects.create(name="Everyone")
now = connection.ops.adapt_datetimefield_value(timezone.now())
batch = 500
sql = ("INSERT INTO contacts_contact (phone, name, name_key, email, attributes, measures,"
       " created_at, updated_at) VALUES " + ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * batch))
with transaction.atomic(), connection.cursor() as cursor:
    params = []
    for i in range(rows):
        name = "محمد " + str(i) if i % 1000 == 7 else f"{FIRST[i % 10]} Salem {i}"
        phone, city = f"+9655{i:07d}", {"city": CITIES[i % 5]}
        # As save() and the importer store them (Contact.measures_of).
        measures = json.dumps(contact_measures(phone=phone, name=name, attributes=city))
        params += [phone, name, name.casefold(), "", json.dumps(city), measures, now, now]
        if len(params) == 8 * batch:
            cursor.execute(sql, params)
            params = []
    cursor.execute(
        "INSERT INTO contacts_membership (contact_list_id, contact_id, added_at)"
        " SELECT %s, id, created_at FROM contacts_contact", [target.pk]
    )
if connection.vendor == "postgresql":
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
"""

TIME = """
import json, statistics, time, django
django.setup()
from django.db.models import Q
from smsportal.contacts.models import Contact, ContactList, Membership, OptOut
from smsportal.messaging.personal import compose_estimate
from smsportal.sms.encoding import STANDARD
ids = [ContactList.objects.get().pk]
text = "Hello {first_name|Customer}, see you in {city}"

def floor():
    # The least any preview in SQL pays: counting the same recipients (the list's members, not
    # opted out), the query compose_estimate groups.
    members = Membership.objects.filter(contact_list_id__in=ids).values("contact_id")
    return Contact.objects.filter(Q(pk__in=members)).exclude(
        phone__in=OptOut.objects.values("phone")).count()

times, floors = [], []
for _ in range(5):
    start = time.perf_counter()
    floor()
    floors.append(time.perf_counter() - start)
    start = time.perf_counter()
    estimate = compose_estimate(text, ids, [], STANDARD)
    times.append(time.perf_counter() - start)
median, floor_median = statistics.median(times), statistics.median(floors)
print(json.dumps({
    "median_ms": round(median * 1000),
    "floor_ms": round(floor_median * 1000),
    "ratio": round(median / floor_median, 2),
    "recipients": estimate.recipients,
    "unicode": estimate.ucs2,
    "distribution": estimate.distribution,
}))
"""


def run(code: str, env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(done.stderr[-3000:])
    return done.stdout.strip()


def measure(env: dict, rows: int) -> dict:
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], env=env, cwd=ROOT, check=True)
    started = time.perf_counter()
    run(FILL, env, str(rows))
    fill = time.perf_counter() - started
    return {**json.loads(run(TIME, env)), "fill_seconds": round(fill, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    result: dict = {"rows": args.rows}
    with tempfile.TemporaryDirectory() as tmp:
        env = django_env(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        result["sqlite_preview"] = measure(env, args.rows)
        print(json.dumps(result), flush=True)
        if args.postgres:
            with ThrowawayPostgres() as pg:
                pg.create_database("bench")
                result["postgres_preview"] = measure(django_env(pg.url("bench")), args.rows)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
