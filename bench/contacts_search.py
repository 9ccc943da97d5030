"""The contacts page and its searches over 1,000,000 contacts, without the import's minutes.

    .venv/bin/python bench/contacts_search.py [--rows 1000000] [--postgres]

Fills a fresh database (migrated, so the search indexes and their triggers are in place) with
`--rows` contacts by multi-row INSERT, names as `bench/import_contacts.py` writes them, then
times the same pages as that script (Django's test client, server time, median of 15). JSON.
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

from bench.import_contacts import PAGES  # noqa: E402
from bench.settings_env import django_env  # noqa: E402
from tests.support.postgres import ThrowawayPostgres  # noqa: E402

FILL = """
import random, sys, django
django.setup()
from django.db import connection, transaction
from django.utils import timezone
FIRST = ["Ali", "Sara", "Omar", "Fatima", "Yousef", "Noor", "Hamad", "Mariam", "Khalid", "Dana"]
LAST = ["Hassan", "Al-Sabah", "Kareem", "Salem", "Abdullah", "Mohammed", "Noor"]
rows = int(sys.argv[1])
prefixes = [50, 51, 55, 65, 66, 90, 94, 96, 97, 99]
picks = random.Random(7).sample(range(len(prefixes) * 1_000_000), rows)
now = connection.ops.adapt_datetimefield_value(timezone.now())
batch = 500
sql = ("INSERT INTO contacts_contact (phone, name, name_key, email, attributes, created_at,"
       " updated_at) VALUES " + ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * batch))
with transaction.atomic(), connection.cursor() as cursor:
    params = []
    for i, p in enumerate(picks):
        name = f"{FIRST[i % 10]} {LAST[i % 7]} {i}"
        phone = f"+965{prefixes[p // 1_000_000] * 1_000_000 + p % 1_000_000}"
        params += [phone, name, name.casefold(), "", "{}", now, now]
        if len(params) == 7 * batch:
            cursor.execute(sql, params)
            params = []
if connection.vendor == "postgresql":
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE contacts_contact")
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
    run(FILL, env, str(rows))
    return json.loads(run(PAGES, env))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    result: dict = {"rows": args.rows}
    with tempfile.TemporaryDirectory() as tmp:
        env = django_env(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        result["sqlite_contacts_page"] = measure(env, args.rows)
        print(json.dumps(result), flush=True)  # a figure kept even if PostgreSQL fails
        if args.postgres:
            with ThrowawayPostgres() as pg:
                pg.create_database("bench")
                result["postgres_contacts_page"] = measure(django_env(pg.url("bench")), args.rows)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
