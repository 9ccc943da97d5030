"""A message's unknown deliveries counted by the moment each was first sent
(MessageUnknownCount), kept by triggers like the status counts of 0013.

The message page's retry warning asked the deliveries, on every poll, how many unknown ones a
deduplicating provider still remembers (first sent within its window); it reads these counts
instead, a row per moment (a claimed batch) rather than a row per delivery. Only unknown
deliveries that were sent are counted: an UPDATE that neither leaves nor enters `unknown`, nor
moves an unknown row's first send, changes nothing. SQLite: row triggers, each with a WHEN that
skips every other row. PostgreSQL: statement triggers with transition tables, which return at
once when no row of the statement was or is unknown, else one grouped upsert in a fixed order
(message, moment). Existing unknown deliveries are counted once, at the end.
"""

import django.db.models.deletion
from django.db import migrations, models

# A row counts while it is unknown and was sent; it moves when either stops, or its message or
# its first send changes.
SQLITE = [
    """CREATE TRIGGER messaging_delivery_unknown_insert AFTER INSERT ON messaging_delivery
        WHEN new.status = 'unknown' AND new.first_sent_at IS NOT NULL BEGIN
        INSERT INTO messaging_messageunknowncount (message_id, first_sent_at, count)
        VALUES (new.message_id, new.first_sent_at, 1)
        ON CONFLICT (message_id, first_sent_at) DO UPDATE SET count = count + 1;
    END""",
    """CREATE TRIGGER messaging_delivery_unknown_update
        AFTER UPDATE OF status, message_id, first_sent_at ON messaging_delivery
        WHEN (old.status = 'unknown' OR new.status = 'unknown') AND (old.status IS NOT new.status
            OR old.message_id IS NOT new.message_id OR old.first_sent_at IS NOT new.first_sent_at)
        BEGIN
        UPDATE messaging_messageunknowncount SET count = count - 1
        WHERE old.status = 'unknown' AND message_id = old.message_id
            AND first_sent_at = old.first_sent_at;
        INSERT INTO messaging_messageunknowncount (message_id, first_sent_at, count)
        SELECT new.message_id, new.first_sent_at, 1
        WHERE new.status = 'unknown' AND new.first_sent_at IS NOT NULL
        ON CONFLICT (message_id, first_sent_at) DO UPDATE SET count = count + 1;
    END""",
    """CREATE TRIGGER messaging_delivery_unknown_delete AFTER DELETE ON messaging_delivery
        WHEN old.status = 'unknown' AND old.first_sent_at IS NOT NULL BEGIN
        UPDATE messaging_messageunknowncount SET count = count - 1
        WHERE message_id = old.message_id AND first_sent_at = old.first_sent_at;
    END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS messaging_delivery_unknown_insert",
    "DROP TRIGGER IF EXISTS messaging_delivery_unknown_update",
    "DROP TRIGGER IF EXISTS messaging_delivery_unknown_delete",
]
POSTGRESQL = [
    """CREATE FUNCTION messaging_delivery_unknown_insert() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO messaging_messageunknowncount AS c (message_id, first_sent_at, count)
        SELECT message_id, first_sent_at, count(*) FROM new_rows
        WHERE status = 'unknown' AND first_sent_at IS NOT NULL
        GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (message_id, first_sent_at) DO UPDATE SET count = c.count + excluded.count;
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION messaging_delivery_unknown_update() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        -- Most statements (a claim, an outcome, a report) touch no unknown row: a scan of each
        -- transition table, stopping at the first unknown row, and nothing more.
        IF NOT EXISTS (SELECT 1 FROM old_rows WHERE status = 'unknown')
            AND NOT EXISTS (SELECT 1 FROM new_rows WHERE status = 'unknown') THEN
            RETURN NULL;
        END IF;
        INSERT INTO messaging_messageunknowncount AS c (message_id, first_sent_at, count)
        SELECT message_id, first_sent_at, sum(n) FROM (
            SELECT o.message_id, o.first_sent_at, -1 AS n FROM old_rows o JOIN new_rows w USING (id)
            WHERE o.status = 'unknown' AND o.first_sent_at IS NOT NULL
            AND (o.status IS DISTINCT FROM w.status OR o.message_id <> w.message_id
                OR o.first_sent_at IS DISTINCT FROM w.first_sent_at)
            UNION ALL
            SELECT w.message_id, w.first_sent_at, 1 FROM old_rows o JOIN new_rows w USING (id)
            WHERE w.status = 'unknown' AND w.first_sent_at IS NOT NULL
            AND (o.status IS DISTINCT FROM w.status OR o.message_id <> w.message_id
                OR o.first_sent_at IS DISTINCT FROM w.first_sent_at)
        ) moved
        GROUP BY 1, 2 HAVING sum(n) <> 0 ORDER BY 1, 2
        ON CONFLICT (message_id, first_sent_at) DO UPDATE SET count = c.count + excluded.count;
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION messaging_delivery_unknown_delete() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE messaging_messageunknowncount AS c SET count = c.count - gone.n
        FROM (
            SELECT message_id, first_sent_at, count(*) AS n FROM old_rows
            WHERE status = 'unknown' AND first_sent_at IS NOT NULL GROUP BY 1, 2
        ) gone
        WHERE c.message_id = gone.message_id AND c.first_sent_at = gone.first_sent_at;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER messaging_delivery_unknown_insert AFTER INSERT ON messaging_delivery
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION messaging_delivery_unknown_insert()""",
    """CREATE TRIGGER messaging_delivery_unknown_update AFTER UPDATE ON messaging_delivery
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION messaging_delivery_unknown_update()""",
    """CREATE TRIGGER messaging_delivery_unknown_delete AFTER DELETE ON messaging_delivery
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION messaging_delivery_unknown_delete()""",
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS messaging_delivery_unknown_insert ON messaging_delivery",
    "DROP TRIGGER IF EXISTS messaging_delivery_unknown_update ON messaging_delivery",
    "DROP TRIGGER IF EXISTS messaging_delivery_unknown_delete ON messaging_delivery",
    "DROP FUNCTION IF EXISTS messaging_delivery_unknown_insert()",
    "DROP FUNCTION IF EXISTS messaging_delivery_unknown_update()",
    "DROP FUNCTION IF EXISTS messaging_delivery_unknown_delete()",
]
COUNT_EXISTING = (
    "INSERT INTO messaging_messageunknowncount (message_id, first_sent_at, count) "
    "SELECT message_id, first_sent_at, COUNT(*) FROM messaging_delivery "
    "WHERE status = 'unknown' AND first_sent_at IS NOT NULL GROUP BY message_id, first_sent_at"
)


def _run(forward: bool):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if forward:
            statements = {"sqlite": SQLITE, "postgresql": POSTGRESQL}.get(vendor, [])
            if not statements:
                raise RuntimeError(f"no unknown delivery count triggers for {vendor}")
            for statement in [*statements, COUNT_EXISTING]:
                schema_editor.execute(statement)
        else:
            reverse = {"sqlite": SQLITE_REVERSE, "postgresql": POSTGRESQL_REVERSE}
            for statement in reverse.get(vendor, []):
                schema_editor.execute(statement)
            schema_editor.execute("DELETE FROM messaging_messageunknowncount")

    return run


class Migration(migrations.Migration):
    dependencies = [("messaging", "0021_delivery_write_indexes")]

    operations = [
        migrations.CreateModel(
            name="MessageUnknownCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("first_sent_at", models.DateTimeField()),
                ("count", models.BigIntegerField(default=0)),
                (
                    "message",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="unknown_counts",
                        to="messaging.message",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("message", "first_sent_at"), name="message_unknown_count"
                    )
                ],
            },
        ),
        migrations.RunPython(_run(True), _run(False)),
    ]
