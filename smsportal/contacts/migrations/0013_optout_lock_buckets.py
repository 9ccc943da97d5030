# ruff: noqa: S608 — the SQL is built from this module's own constants, never from input.
"""On PostgreSQL an opt-out and a change of a contact's number meet on an advisory lock (see
0009): one per distinct number, which filled the server's lock table (max_locks_per_transaction
× connections, 6,400 by default) once a statement or transaction touched a few thousand numbers —
"out of shared memory". Now the numbers share 256 locks by a hash: the same number still always
meets on the same lock, in the same order (no deadlock), and no transaction holds more than 256.
"""

import importlib

from django.db import migrations

counts = importlib.import_module("smsportal.contacts.migrations.0009_list_measure_counts")

BUCKETS = 256
LOCK_BUCKETS = (
    "PERFORM pg_advisory_xact_lock(hashtext('contacts.optout'), bucket)\n"
    f"        FROM (SELECT DISTINCT hashtext(phone) & {BUCKETS - 1} AS bucket"
    " FROM ({phones}) p ORDER BY bucket) b;"
)
LOCKING = [  # the functions 0009 made that lock numbers
    ("contacts_contact", "update"),
    ("contacts_optout", "insert"),
    ("contacts_optout", "delete"),
    ("contacts_optout", "update"),
]


def bodies(bucketed: bool) -> dict[str, str]:
    before, after = counts.LOCK_PHONES.split("{phones}")
    new_before, new_after = LOCK_BUCKETS.split("{phones}")
    made = {}
    for table, event in LOCKING:
        body = counts.POSTGRESQL_FUNCTIONS[(table, event)]
        assert body.startswith(before) and after in body, (table, event)
        if bucketed:
            body = new_before + body[len(before) :].replace(after, new_after, 1)
        made[f"{table}_measures_{event}"] = body
    return made


def _run(bucketed: bool):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return  # SQLite has one writer at a time and takes no such locks
        for name, body in bodies(bucketed).items():
            schema_editor.execute(
                counts.function(name, body).replace("CREATE ", "CREATE OR REPLACE ", 1)
            )

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0012_contact_department_no_own_index"),
    ]

    operations = [migrations.RunPython(_run(True), _run(False))]
