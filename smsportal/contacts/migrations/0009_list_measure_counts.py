# ruff: noqa: S608 — the SQL is built from this module's own constants, never from input.
"""Each list's reachable members counted by their measures (ListMeasureCount), kept by triggers.

The triggers move the counts in the statement that changes a membership, a contact's measures or
phone, or an opt-out, so every path — the ORM, the importer's raw SQL, a cascade, a field removed
from all contacts in one UPDATE — keeps them right, atomically. The key is the contact's measures
as text ("" where never computed); a member is counted while no opt-out has its number.

SQLite has row triggers only (and one writer at a time). PostgreSQL uses statement triggers with
transition tables — one grouped upsert per statement, in a fixed order — and locks so that two
transactions cannot each count from the other's old state: a membership change locks its
contacts FOR SHARE (an edit of their measures waits for it, and it for the edit); an opt-out
locks the contacts with its number FOR UPDATE (which waits for both); an opt-out and a change of
a contact's number meet on an advisory lock on the number. Existing members are counted once.
"""

import django.db.models.deletion
from django.db import migrations, models

TABLE = "contacts_listmeasurecount"
REACHABLE_SQLITE = "NOT EXISTS (SELECT 1 FROM contacts_optout o WHERE o.phone = {phone})"

SQLITE = [
    f"""CREATE TRIGGER contacts_membership_measures_insert AFTER INSERT ON contacts_membership
    BEGIN
        INSERT INTO {TABLE} (contact_list_id, measures, count)
        SELECT new.contact_list_id, coalesce(c.measures, ''), 1 FROM contacts_contact c
        WHERE c.id = new.contact_id AND {REACHABLE_SQLITE.format(phone="c.phone")}
        ON CONFLICT (contact_list_id, measures) DO UPDATE SET count = count + 1;
    END""",
    f"""CREATE TRIGGER contacts_membership_measures_delete AFTER DELETE ON contacts_membership
    BEGIN
        UPDATE {TABLE} SET count = count - 1
        WHERE contact_list_id = old.contact_list_id AND measures = (
            SELECT coalesce(c.measures, '') FROM contacts_contact c
            WHERE c.id = old.contact_id AND {REACHABLE_SQLITE.format(phone="c.phone")});
    END""",
    f"""CREATE TRIGGER contacts_membership_measures_update AFTER UPDATE OF contact_list_id, contact_id
        ON contacts_membership
        WHEN old.contact_list_id IS NOT new.contact_list_id OR old.contact_id IS NOT new.contact_id
    BEGIN
        UPDATE {TABLE} SET count = count - 1
        WHERE contact_list_id = old.contact_list_id AND measures = (
            SELECT coalesce(c.measures, '') FROM contacts_contact c
            WHERE c.id = old.contact_id AND {REACHABLE_SQLITE.format(phone="c.phone")});
        INSERT INTO {TABLE} (contact_list_id, measures, count)
        SELECT new.contact_list_id, coalesce(c.measures, ''), 1 FROM contacts_contact c
        WHERE c.id = new.contact_id AND {REACHABLE_SQLITE.format(phone="c.phone")}
        ON CONFLICT (contact_list_id, measures) DO UPDATE SET count = count + 1;
    END""",
    f"""CREATE TRIGGER contacts_contact_measures_update AFTER UPDATE OF measures, phone
        ON contacts_contact
        WHEN old.measures IS NOT new.measures OR old.phone IS NOT new.phone
    BEGIN
        UPDATE {TABLE} SET count = count - 1
        WHERE measures = coalesce(old.measures, '')
        AND contact_list_id IN (
            SELECT contact_list_id FROM contacts_membership WHERE contact_id = old.id)
        AND {REACHABLE_SQLITE.format(phone="old.phone")};
        INSERT INTO {TABLE} (contact_list_id, measures, count)
        SELECT m.contact_list_id, coalesce(new.measures, ''), 1 FROM contacts_membership m
        WHERE m.contact_id = new.id AND {REACHABLE_SQLITE.format(phone="new.phone")}
        ON CONFLICT (contact_list_id, measures) DO UPDATE SET count = count + 1;
    END""",
    # Django deletes a contact's memberships before it (then this finds none); raw SQL may do
    # it the other way round (then the membership trigger finds no contact and leaves it).
    f"""CREATE TRIGGER contacts_contact_measures_delete AFTER DELETE ON contacts_contact
    BEGIN
        UPDATE {TABLE} SET count = count - 1
        WHERE measures = coalesce(old.measures, '')
        AND contact_list_id IN (
            SELECT contact_list_id FROM contacts_membership WHERE contact_id = old.id)
        AND {REACHABLE_SQLITE.format(phone="old.phone")};
    END""",
    f"""CREATE TRIGGER contacts_optout_measures_insert AFTER INSERT ON contacts_optout
    BEGIN
        UPDATE {TABLE} SET count = count - 1
        WHERE (contact_list_id, measures) IN (
            SELECT m.contact_list_id, coalesce(c.measures, '') FROM contacts_contact c
            JOIN contacts_membership m ON m.contact_id = c.id WHERE c.phone = new.phone);
    END""",
    f"""CREATE TRIGGER contacts_optout_measures_delete AFTER DELETE ON contacts_optout
    BEGIN
        INSERT INTO {TABLE} (contact_list_id, measures, count)
        SELECT m.contact_list_id, coalesce(c.measures, ''), 1 FROM contacts_contact c
        JOIN contacts_membership m ON m.contact_id = c.id WHERE c.phone = old.phone
        ON CONFLICT (contact_list_id, measures) DO UPDATE SET count = count + 1;
    END""",
    f"""CREATE TRIGGER contacts_optout_measures_update AFTER UPDATE OF phone ON contacts_optout
        WHEN old.phone IS NOT new.phone
    BEGIN
        INSERT INTO {TABLE} (contact_list_id, measures, count)
        SELECT m.contact_list_id, coalesce(c.measures, ''), 1 FROM contacts_contact c
        JOIN contacts_membership m ON m.contact_id = c.id WHERE c.phone = old.phone
        ON CONFLICT (contact_list_id, measures) DO UPDATE SET count = count + 1;
        UPDATE {TABLE} SET count = count - 1
        WHERE (contact_list_id, measures) IN (
            SELECT m.contact_list_id, coalesce(c.measures, '') FROM contacts_contact c
            JOIN contacts_membership m ON m.contact_id = c.id WHERE c.phone = new.phone);
    END""",
]
SQLITE_NAMES = [
    ("contacts_membership", "insert"),
    ("contacts_membership", "delete"),
    ("contacts_membership", "update"),
    ("contacts_contact", "update"),
    ("contacts_contact", "delete"),
    ("contacts_optout", "insert"),
    ("contacts_optout", "delete"),
    ("contacts_optout", "update"),
]

# PostgreSQL: one function per (table, event); `moves` is a query of (list, key, +n/-n) rows.
UPSERT = f"""INSERT INTO {TABLE} AS t (contact_list_id, measures, count)
        SELECT contact_list_id, key, sum(n) FROM ({{moves}}) moves
        GROUP BY 1, 2 HAVING sum(n) <> 0 ORDER BY 1, 2
        ON CONFLICT (contact_list_id, measures) DO UPDATE SET count = t.count + excluded.count;"""
KEY = "coalesce(c.measures::text, '')"
REACHABLE = "NOT EXISTS (SELECT 1 FROM contacts_optout o WHERE o.phone = {phone})"


def members(rows: str, sign: int) -> str:
    """Moves for membership rows in transition table `rows`."""
    return (
        f"SELECT r.contact_list_id, {KEY} AS key, {sign} AS n FROM {rows} r"
        f" JOIN contacts_contact c ON c.id = r.contact_id WHERE {REACHABLE.format(phone='c.phone')}"
    )


def contact_moves(rows: str, sign: int) -> str:
    """Moves for the memberships of contact rows in transition table `rows`."""
    return (
        f"SELECT m.contact_list_id, {KEY} AS key, {sign} AS n FROM {rows} c"
        f" JOIN contacts_membership m ON m.contact_id = c.id"
        f" WHERE {REACHABLE.format(phone='c.phone')}"
    )


def phone_moves(rows: str, sign: int) -> str:
    """Moves for the memberships of the contacts with the numbers of opt-outs in `rows`."""
    return (
        f"SELECT m.contact_list_id, {KEY} AS key, {sign} AS n FROM {rows} r"
        f" JOIN contacts_contact c ON c.phone = r.phone"
        f" JOIN contacts_membership m ON m.contact_id = c.id"
    )


LOCK_MEMBERS = """PERFORM 1 FROM contacts_contact WHERE id IN (SELECT contact_id FROM {rows} l)
        ORDER BY id FOR SHARE;"""
LOCK_PHONES = """PERFORM pg_advisory_xact_lock(hashtext('contacts.optout:' || phone))
        FROM (SELECT DISTINCT phone FROM ({phones}) p ORDER BY phone) p;"""
LOCK_OPTED = """PERFORM 1 FROM contacts_contact WHERE phone IN (SELECT phone FROM {rows} l)
        ORDER BY id FOR UPDATE;"""


def function(name: str, body: str) -> str:
    return f"""CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {body}
        RETURN NULL;
    END $$"""


CHANGED = (
    "SELECT o.* FROM old_rows o JOIN new_rows w USING (id)"
    " WHERE o.measures IS DISTINCT FROM w.measures OR o.phone <> w.phone"
)
CHANGED_NEW = (
    "SELECT w.* FROM old_rows o JOIN new_rows w USING (id)"
    " WHERE o.measures IS DISTINCT FROM w.measures OR o.phone <> w.phone"
)
POSTGRESQL_FUNCTIONS = {
    ("contacts_membership", "insert"): LOCK_MEMBERS.format(rows="new_rows")
    + UPSERT.format(moves=members("new_rows", 1)),
    ("contacts_membership", "delete"): LOCK_MEMBERS.format(rows="old_rows")
    + UPSERT.format(moves=members("old_rows", -1)),
    ("contacts_membership", "update"): LOCK_MEMBERS.format(
        rows="(SELECT contact_id FROM old_rows UNION SELECT contact_id FROM new_rows)"
    )
    + UPSERT.format(moves=members("old_rows", -1) + " UNION ALL " + members("new_rows", 1)),
    ("contacts_contact", "update"): LOCK_PHONES.format(
        phones="SELECT o.phone FROM old_rows o JOIN new_rows w USING (id) WHERE o.phone <> w.phone"
        " UNION SELECT w.phone FROM old_rows o JOIN new_rows w USING (id)"
        " WHERE o.phone <> w.phone"
    )
    + UPSERT.format(
        moves=contact_moves(f"({CHANGED})", -1)
        + " UNION ALL "
        + contact_moves(f"({CHANGED_NEW})", 1)
    ),
    ("contacts_contact", "delete"): UPSERT.format(moves=contact_moves("old_rows", -1)),
    ("contacts_optout", "insert"): LOCK_PHONES.format(phones="SELECT phone FROM new_rows")
    + LOCK_OPTED.format(rows="new_rows")
    + UPSERT.format(moves=phone_moves("new_rows", -1)),
    ("contacts_optout", "delete"): LOCK_PHONES.format(phones="SELECT phone FROM old_rows")
    + LOCK_OPTED.format(rows="old_rows")
    + UPSERT.format(moves=phone_moves("old_rows", 1)),
    ("contacts_optout", "update"): LOCK_PHONES.format(
        phones="SELECT phone FROM old_rows UNION SELECT phone FROM new_rows"
    )
    + LOCK_OPTED.format(rows="(SELECT phone FROM old_rows UNION SELECT phone FROM new_rows)")
    + UPSERT.format(moves=phone_moves("old_rows", 1) + " UNION ALL " + phone_moves("new_rows", -1)),
}
TRANSITION = {
    "insert": "REFERENCING NEW TABLE AS new_rows",
    "delete": "REFERENCING OLD TABLE AS old_rows",
    "update": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
}


def postgresql() -> list[str]:
    statements = []
    for (table, event), body in POSTGRESQL_FUNCTIONS.items():
        name = f"{table}_measures_{event}"
        statements.append(function(name, body))
        statements.append(
            f"CREATE TRIGGER {name} AFTER {event.upper()} ON {table} {TRANSITION[event]}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
        )
    return statements


def reverse(vendor: str) -> list[str]:
    statements = []
    for table, event in SQLITE_NAMES:
        name = f"{table}_measures_{event}"
        if vendor == "postgresql":
            statements += [
                f"DROP TRIGGER IF EXISTS {name} ON {table}",
                f"DROP FUNCTION IF EXISTS {name}()",
            ]
        else:
            statements.append(f"DROP TRIGGER IF EXISTS {name}")
    return statements


def count_existing(vendor: str) -> str:
    key = KEY if vendor == "postgresql" else "coalesce(c.measures, '')"
    return (
        f"INSERT INTO {TABLE} (contact_list_id, measures, count)"  # noqa: S608
        f" SELECT m.contact_list_id, {key}, COUNT(*) FROM contacts_membership m"
        " JOIN contacts_contact c ON c.id = m.contact_id"
        f" WHERE {REACHABLE.format(phone='c.phone')} GROUP BY 1, 2"
    )


def _run(forward: bool):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if forward:
            statements = {"sqlite": SQLITE, "postgresql": postgresql()}.get(vendor)
            if statements is None:
                raise RuntimeError(f"no list measure count triggers for {vendor}")
            for statement in [*statements, count_existing(vendor)]:
                schema_editor.execute(statement)
        else:
            for statement in reverse(vendor):
                schema_editor.execute(statement)
            schema_editor.execute(f"DELETE FROM {TABLE}")  # noqa: S608

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0008_contact_measures"),
    ]

    operations = [
        migrations.CreateModel(
            name="ListMeasureCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("measures", models.TextField(blank=True)),
                ("count", models.BigIntegerField(default=0)),
                (
                    "contact_list",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="measure_counts",
                        to="contacts.contactlist",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("contact_list", "measures"), name="list_measure_count_unique"
                    )
                ],
            },
        ),
        migrations.RunPython(_run(True), _run(False)),
    ]
