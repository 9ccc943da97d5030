"""Contact import at a million rows (and a smaller file, to show memory flat in the file's size),
and the contacts page over a million contacts.

    .venv/bin/python bench/import_contacts.py [--rows 250000 1000000] [--postgres]

For each size in `--rows` (smallest first) it writes a CSV of that many distinct Kuwaiti mobile
numbers (names, emails and a "team" column; a few bad rows) to a temporary folder, and on a fresh
SQLite file with the default settings runs `manage.py import_contacts` end to end (a new process:
start-up included), then the same file again (every row already known). Each import gives its
rows per second and the peak memory of all its processes together (bench/process_memory.py: the
command, the processes it forks to parse, and on PostgreSQL the server's backend serving it,
sampled every 100 ms), beside that process's own peak RSS.

At the largest size only:
- the floor: phonenumbers' parse-and-validate rate alone, and a raw bulk INSERT of the same rows;
- the contacts page: first page, name searches (first word, a later word, none matching),
  number searches (international start, a run of digits, the national form, none matching), a
  page deep in the list, a list filter, timed through Django's test client (server time).
With --postgres, the imports again on a throwaway PostgreSQL (a database per size). The largest
size's figures are at the top level of the JSON; `memory_by_size` puts each import's peak of
all processes beside the same import of the other sizes. Prints JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.process_memory import ProcessMemory, backends  # noqa: E402
from bench.settings_env import django_env  # noqa: E402
from tests.support.postgres import ThrowawayPostgres  # noqa: E402

FIRST = ["Ali", "Sara", "Omar", "Fatima", "Yousef", "Noor", "Hamad", "Mariam", "Khalid", "Dana"]
LAST = ["Hassan", "Al-Sabah", "Kareem", "Salem", "Abdullah", "Mohammed", "Noor"]
TEAMS = ["Blue", "Red", "Green", ""]

# phonenumbers' own parse, validation and E.164 formatting: what the portal's parse_phone did
# for every number before it read numbers already in E.164 form from the metadata directly.
FLOOR = """
import sys, time
import phonenumbers
numbers = [line.split(",")[1] for line in open(sys.argv[1], encoding="utf-8").readlines()[1:200001]]
started = time.perf_counter()
valid = 0
for n in numbers:
    try:
        number = phonenumbers.parse(n, "KW")
    except phonenumbers.NumberParseException:
        continue
    phonenumbers.is_possible_number_with_reason(number)
    if phonenumbers.is_valid_number(number):
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        valid += 1
print(len(numbers) / (time.perf_counter() - started))
"""

RAW_INSERT = """
import django, sys, time, csv
django.setup()
from django.db import connection, transaction
from django.utils import timezone
now = timezone.now()
rows = []
with open(sys.argv[1], encoding="utf-8") as f:
    reader = csv.reader(f)
    next(reader)
    for name, phone, email, team in reader:
        if phone.startswith("+965"):
            rows.append((phone, name, name.casefold(), email, "{}", now, now))
started = time.perf_counter()
with transaction.atomic(), connection.cursor() as cursor:
    cursor.executemany(
        "INSERT INTO contacts_contact (phone, name, name_key, email, attributes, created_at,"
        " updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s)", rows)
print(len(rows) / (time.perf_counter() - started))
"""

PAGES = """
import django, json, statistics, sys, time
django.setup()
from django.contrib.auth import get_user_model
from django.test import Client
from smsportal.contacts.models import Contact, ContactList
User = get_user_model()
user = User.objects.create_superuser("bench", password="x")
staff = ContactList.objects.create(name="Bench")
staff.add(list(Contact.objects.order_by("id").values_list("id", flat=True)[:100000]))
client = Client()
client.force_login(user)
middle = Contact.objects.order_by("id").values_list("id", flat=True)[500000:500001]
deep = middle[0] if middle else Contact.objects.order_by("-id").values_list("id", flat=True)[0]
pages = {
    "first page": {},
    "name search": {"q": "mariam"},
    "number search": {"q": "+965 512"},
    "name word search": {"q": "hassan"},
    "name search, no match": {"q": "zzzz"},
    "number run search": {"q": "5555"},
    "national number search": {"q": "9711 5555"},
    "number run, no match": {"q": "12345678"},
    "deep page": {"before": deep},
    "list filter": {"list": staff.pk},
}
out = {}
for label, params in pages.items():
    times = []
    for _ in range(15):
        started = time.perf_counter()
        response = client.get("/contacts/", params, secure=True)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    out[label] = {"median_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1)}
print(json.dumps(out))
"""


def write_csv(path: Path, rows: int) -> int:
    """Distinct valid Kuwaiti mobile numbers, plus one bad row per 10,000."""
    prefixes = [50, 51, 55, 65, 66, 90, 94, 96, 97, 99]  # mobile ranges phonenumbers accepts
    picks = random.Random(7).sample(range(len(prefixes) * 1_000_000), rows)
    numbers = [prefixes[p // 1_000_000] * 1_000_000 + p % 1_000_000 for p in picks]
    bad = 0
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["name", "phone", "email", "team"])
        for i, n in enumerate(numbers):
            if i % 10_000 == 9_999:
                writer.writerow(["Bad", "12345", "", ""])
                bad += 1
                continue
            first = FIRST[i % len(FIRST)]
            last = LAST[i % len(LAST)]
            writer.writerow(
                [f"{first} {last} {i}", f"+965{n}", f"{first.lower()}{i}@example.com", TEAMS[i % 4]]
            )
    return bad


def python(code_or_args, env: dict, *args: str) -> str:
    argv = (
        [sys.executable, *code_or_args]
        if isinstance(code_or_args, list)
        else [sys.executable, "-c", code_or_args, *args]
    )
    done = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(done.stderr[-3000:])
    return done.stdout.strip()


# The contacts are a department's (import_contacts --department); made before the timing.
DEPARTMENT = """
import django
django.setup()
from smsportal.departments.models import Department
Department.objects.get_or_create(name="Bench")
"""


def timed_import(csv_path: Path, env: dict, postgres: tuple[int, str] | None = None) -> dict:
    """`manage.py import_contacts` in its own process: wall time, the peak memory of all its
    processes together (with `postgres`, (postmaster pid, database): its backend too), and
    that process's own peak RSS."""
    python(DEPARTMENT, env)
    if postgres:  # the backend of the step above ends, so it is not counted as the import's
        deadline = time.monotonic() + 10
        while backends(*postgres) and time.monotonic() < deadline:
            time.sleep(0.05)
    started = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "import_contacts",
            str(csv_path),
            "--department",
            "Bench",
            "--quiet-progress",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with ProcessMemory(proc.pid, postgres=postgres) as memory:
        # Pipes are read after the end: the command prints a few lines only.
        _, _, rusage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    out = proc.stdout.read()
    if "Imported" not in out:
        raise SystemExit(out + proc.stderr.read())
    together = memory.result()
    if postgres and not together["processes_by_role"].get("PostgreSQL backend"):
        raise SystemExit("no PostgreSQL backend was seen serving the import")
    rows = int(out.split("Imported ")[1].split(" rows")[0].replace(",", ""))
    return {
        "rows": rows,
        "seconds": round(seconds, 1),
        "rows_per_second": round(rows / seconds),
        "peak_all_processes_mb": together["peak_pss_mb"],
        # The same without shared memory (on PostgreSQL the backend's share of the shared
        # buffers, a fixed cache of the server): the processes' own memory.
        "peak_all_processes_mb_own": together["peak_pss_mb_without_shared_memory"],
        "all_processes": together,
        "peak_rss_mb": round(rusage.ru_maxrss / 1024),
        "report": out.strip().splitlines()[1].strip(),
    }


def postmaster_pid(pg: ThrowawayPostgres) -> int:
    return int((pg.data / "postmaster.pid").read_text().split()[0])


IMPORTS = ("sqlite_first_import", "sqlite_reimport", "postgres_first_import", "postgres_reimport")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--rows",
        type=int,
        nargs="+",
        default=[250_000, 1_000_000],
        help="file sizes, in rows (the floors and pages are measured at the largest)",
    )
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    sizes = sorted(set(args.rows))
    result: dict = {"rows": sizes[-1], "sizes": sizes}
    by_size: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        tmp = Path(tmp)
        pg = stack.enter_context(ThrowawayPostgres()) if args.postgres else None
        for rows in sizes:
            largest = rows == sizes[-1]
            here: dict = {}
            csv_path = tmp / f"contacts-{rows}.csv"
            here["bad_rows"] = write_csv(csv_path, rows)
            here["file_mb"] = round(csv_path.stat().st_size / 2**20, 1)
            if largest:
                env = django_env(f"sqlite:///{tmp / 'raw.sqlite3'}")
                python(["manage.py", "migrate", "-v0"], env)
                here["floor_phonenumbers_per_second"] = round(
                    float(python(FLOOR, env, str(csv_path)))
                )
                here["floor_raw_insert_per_second"] = round(
                    float(python(RAW_INSERT, env, str(csv_path)))
                )

            env = django_env(f"sqlite:///{tmp / f'portal-{rows}.sqlite3'}")
            python(["manage.py", "migrate", "-v0"], env)
            here["sqlite_first_import"] = timed_import(csv_path, env)
            here["sqlite_reimport"] = timed_import(csv_path, env)
            if largest:
                here["contacts_page"] = json.loads(python(PAGES, env))

            if pg:
                database = f"bench_{rows}"
                pg.create_database(database)
                env = django_env(pg.url(database))
                python(["manage.py", "migrate", "-v0"], env)
                server = (postmaster_pid(pg), database)
                here["postgres_first_import"] = timed_import(csv_path, env, server)
                here["postgres_reimport"] = timed_import(csv_path, env, server)
                if largest:
                    here["postgres_contacts_page"] = json.loads(python(PAGES, env))
            csv_path.unlink()
            by_size[str(rows)] = here
            if largest:
                result.update(here)
    # "Flat in the file's size": each import's peak of all processes, size beside size.
    result["memory_by_size"] = {
        key: {
            **{size: here[key]["peak_all_processes_mb"] for size, here in by_size.items()},
            "largest_to_smallest": round(
                by_size[str(sizes[-1])][key]["peak_all_processes_mb"]
                / by_size[str(sizes[0])][key]["peak_all_processes_mb"],
                2,
            ),
        }
        for key in IMPORTS
        if key in by_size[str(sizes[0])]
    }
    result["smaller_sizes"] = {
        size: here for size, here in by_size.items() if size != str(sizes[-1])
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_NOFILE, resource.getrlimit(resource.RLIMIT_NOFILE))
    main()
