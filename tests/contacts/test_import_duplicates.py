"""Duplicates inside a file are found across batches through a temporary table (no dict of every
phone in memory), the same on SQLite and PostgreSQL; the table is gone afterwards."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection

from smsportal.contacts import importer
from smsportal.contacts.importer import Options, import_contacts
from smsportal.contacts.models import Contact
from smsportal.contacts.reading import open_table

pytestmark = pytest.mark.django_db


def run(data: bytes, **options):
    reported = []
    table = open_table(io.BytesIO(data), len(data))
    summary = import_contacts(table, Options(region="KW", **options), on_rejected=reported.extend)
    return summary, [(r.line, r.reason) for r in reported if not r.kept]


def temporary_tables() -> list[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_temp_master WHERE type = 'table'")
        else:
            cursor.execute("SELECT relname FROM pg_class WHERE relpersistence = 't'")
        return [name for (name,) in cursor.fetchall() if name.startswith("import_seen_")]


@pytest.mark.parametrize("dry_run", [False, True])
def test_duplicates_are_found_across_batches(monkeypatch, dry_run):
    monkeypatch.setattr(importer, "CHUNK", 2)  # every two rows a new batch
    lines = ["name,phone"] + [f"P{i},+9659711{9440 + i % 3}" for i in range(7)]

    summary, rejected = run(("\n".join(lines) + "\n").encode(), dry_run=dry_run)

    assert rejected == [
        (5, "duplicate of line 2"),
        (6, "duplicate of line 3"),
        (7, "duplicate of line 4"),
        (8, "duplicate of line 2"),
    ]
    assert (summary.rows, summary.created, summary.rejected) == (7, 3, 4)
    assert Contact.objects.count() == (0 if dry_run else 3)
    assert temporary_tables() == []


def test_an_import_that_fails_drops_its_table_and_reports_its_own_error(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(importer, "_write", broken)

    with pytest.raises(RuntimeError, match="the disk is full"):
        run(b"name,phone\nAli,+96597119440\n")
    assert temporary_tables() == []


def test_a_phone_twice_in_one_batch_and_again_in_a_later_one(monkeypatch):
    monkeypatch.setattr(importer, "CHUNK", 3)
    lines = ["name,phone", "A,+96597119440", "B,+96597119441", "A again,+96597119440"]
    lines += ["A third,+96597119440", "C,+96597119442", "B again,+96597119441"]

    summary, rejected = run(("\n".join(lines) + "\n").encode())

    assert rejected == [
        (4, "duplicate of line 2"),
        (5, "duplicate of line 2"),
        (7, "duplicate of line 3"),
    ]
    assert (summary.rows, summary.created) == (6, 3)


def test_known_contacts_are_found_phone_by_phone_whatever_the_department_holds():
    """The lookup of a chunk's phones probes the (department, phone) index once per phone; it
    never walks the department's contacts (the model's newest-first index, or a bitmap of the
    whole department on PostgreSQL), which made an import slow down as the table grew."""
    from django.test.utils import CaptureQueriesContext

    from smsportal.departments.models import Department

    department = Department.objects.create(name="Sales")
    Contact.objects.bulk_create(  # the department holds many: no statistics say so yet
        Contact(department=department, phone=f"+9655{i:07d}") for i in range(3_000)
    )
    data = b"name,phone\nAli,+96597119440\nSara,+96597119441\n"
    with CaptureQueriesContext(connection) as queries:
        run(data, department_id=department.pk)
    lookups = [q["sql"] for q in queries if 'SELECT c."id"' in q["sql"]]
    assert len(lookups) == 1
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + lookups[0])
            plan = " / ".join(row[-1] for row in cursor.fetchall())
            assert "(department_id=? AND phone=?)" in plan or "(phone=?)" in plan, plan
            assert plan.index("SCAN p") < plan.index("SEARCH c"), plan  # the phones outside
        else:
            cursor.execute("EXPLAIN " + lookups[0])
            plan = " / ".join(row[0] for row in cursor.fetchall())
            assert "Nested Loop" in plan and "Function Scan on unnest" in plan, plan
            assert "Index Cond: ((phone)::text = p.phone)" in plan, plan


def test_each_batch_asks_the_seen_phones_once_on_postgresql_probing_the_phone_index(monkeypatch):
    """PostgreSQL: one statement a batch reads the phones met before and records the rest, and
    returns only those met before. SQLite: a probe, and an INSERT only when some are new."""
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(importer, "CHUNK", 2)  # batches: 40 41 | 42 40 | 41 42 | 40
    lines = ["name,phone"] + [f"P{i},+9659711{9440 + i % 3}" for i in range(7)]

    with CaptureQueriesContext(connection) as queries:
        summary, rejected = run(("\n".join(lines) + "\n").encode())

    assert (summary.created, len(rejected)) == (3, 4)
    seen = [
        q["sql"]
        for q in queries
        if "import_seen_" in q["sql"] and not q["sql"].startswith(("CREATE", "DROP"))
    ]
    if connection.vendor == "postgresql":
        assert len(seen) == 4
        with connection.cursor() as cursor:
            table = seen[0].split("INSERT INTO ")[1].split(" ")[0]
            cursor.execute(
                f"CREATE TEMPORARY TABLE {table} (phone VARCHAR(32) PRIMARY KEY, line INTEGER)"
            )
            cursor.execute("EXPLAIN " + seen[1])
            plan = " / ".join(row[0] for row in cursor.fetchall())
            cursor.execute(f"DROP TABLE {table}")
        assert "Index Scan using" in plan and "Index Cond: ((phone)::text = b.phone)" in plan, plan
    else:
        assert [sql.split()[0] for sql in seen] == ["SELECT", "INSERT"] * 2 + ["SELECT"] * 2


def test_a_contacts_department_has_no_index_of_its_own_and_still_protects_the_department():
    """Every imported contact writes each index of the table: the department's own index was a
    third copy of what (department, phone) and (department, -id) already lead with."""
    from django.db.models import ProtectedError

    from smsportal.departments.models import Department

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Contact._meta.db_table)
    leading = sorted(
        c["columns"]
        for c in constraints.values()
        if (c["index"] or c["unique"]) and c["columns"] and c["columns"][0] == "department_id"
    )
    assert leading == [["department_id", "id"], ["department_id", "phone"]], leading

    department = Department.objects.create(name="Sales")
    Contact.objects.create(department=department, phone="+96597119440")
    with pytest.raises(ProtectedError):
        department.delete()


def test_new_contacts_are_each_written_once_in_file_order_with_every_character(monkeypatch):
    """SQLite writes a chunk's new contacts in one statement, from one JSON parameter (through
    sqlite3's own cursor); PostgreSQL in one COPY. Either way each row once, in file order,
    every character as it was, across chunks."""
    monkeypatch.setattr(importer, "CHUNK", 2)
    names = ['O\'Brien "Al"', "back\\slash", "علي 😀", "tab\there", "P4"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["name", "phone", "team"])
    writer.writerows([name, f"+9659711{9440 + i}", f"T{i % 2}"] for i, name in enumerate(names))

    summary, rejected = run(out.getvalue().encode())

    assert (summary.created, rejected) == (5, [])
    assert list(
        Contact.objects.order_by("id").values_list("name", "phone", "attributes", "measures")
    ) == [
        (
            name,
            f"+9659711{9440 + i}",
            {"team": f"T{i % 2}"},
            Contact.measures_of(f"+9659711{9440 + i}", name, "", {"team": f"T{i % 2}"}),
        )
        for i, name in enumerate(names)
    ]
    assert [c.name_key for c in Contact.objects.order_by("id")] == [
        Contact.key_of(n) for n in names
    ]


def test_rows_of_empty_or_blank_cells_are_skipped_and_later_lines_keep_their_numbers():
    data = b"name,phone\nAli,+96597119440\n,\n  , \t\n\nSara,12\nOmar,+96597119441\n"

    summary, rejected = run(data)

    assert (summary.rows, summary.created) == (3, 2)
    assert rejected == [(6, "invalid phone number “12”: too short")]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's JIT")
def test_an_import_runs_without_jit_or_bitmap_scans_and_puts_the_settings_back():
    """A first import's statements were estimated costly enough for JIT: the backend loaded
    LLVM (51-55 MB) to compile statements that take milliseconds. And on a growing table's
    statistics the planner read the trigram search index (by bitmap scan) for each lookup by
    phone: more than half of a first import's time."""

    def settings() -> tuple[str, str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('jit'), current_setting('enable_bitmapscan')")
            return cursor.fetchone()

    data = b"name,phone\nAli,+96597119440\n"
    for setting in ("on", "off"):
        with connection.cursor() as cursor:
            cursor.execute(f"SET jit = {setting}")
            cursor.execute(f"SET enable_bitmapscan = {setting}")
        during: list[tuple[str, str]] = []
        table = open_table(io.BytesIO(data), len(data))
        import_contacts(
            table, Options(region="KW"), on_progress=lambda _, seen=during: seen.append(settings())
        )
        assert during == [("off", "off")]
        assert settings() == (setting, setting)  # as they were before this import
