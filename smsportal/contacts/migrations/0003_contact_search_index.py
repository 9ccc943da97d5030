"""Indexes that find a contact by any run of its number's digits or any word of its name.

SQLite: an FTS5 table with the trigram tokenizer over the contact's `name_key` and `phone`
(external content: it stores only the index, triggers keep it in step with every write,
including the importer's raw INSERTs). PostgreSQL: pg_trgm GIN indexes on the same columns.
Neither is a model field, so Django's autodetector never sees them; `search.py` is the one
place that queries them.
"""

from django.db import migrations

SQLITE = [
    """CREATE VIRTUAL TABLE contacts_contact_fts USING fts5(
        name_key, phone, content='contacts_contact', content_rowid='id',
        tokenize='trigram', detail='none')""",
    """CREATE TRIGGER contacts_contact_fts_insert AFTER INSERT ON contacts_contact BEGIN
        INSERT INTO contacts_contact_fts(rowid, name_key, phone)
        VALUES (new.id, new.name_key, new.phone);
    END""",
    """CREATE TRIGGER contacts_contact_fts_delete AFTER DELETE ON contacts_contact BEGIN
        INSERT INTO contacts_contact_fts(contacts_contact_fts, rowid, name_key, phone)
        VALUES ('delete', old.id, old.name_key, old.phone);
    END""",
    """CREATE TRIGGER contacts_contact_fts_update AFTER UPDATE OF name_key, phone
        ON contacts_contact BEGIN
        INSERT INTO contacts_contact_fts(contacts_contact_fts, rowid, name_key, phone)
        VALUES ('delete', old.id, old.name_key, old.phone);
        INSERT INTO contacts_contact_fts(rowid, name_key, phone)
        VALUES (new.id, new.name_key, new.phone);
    END""",
    "INSERT INTO contacts_contact_fts(contacts_contact_fts) VALUES ('rebuild')",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS contacts_contact_fts_insert",
    "DROP TRIGGER IF EXISTS contacts_contact_fts_delete",
    "DROP TRIGGER IF EXISTS contacts_contact_fts_update",
    "DROP TABLE IF EXISTS contacts_contact_fts",
]
POSTGRESQL = [
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may create it.
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX contact_phone_trgm ON contacts_contact USING gin (phone gin_trgm_ops)",
    "CREATE INDEX contact_name_key_trgm ON contacts_contact USING gin (name_key gin_trgm_ops)",
]
POSTGRESQL_REVERSE = [
    "DROP INDEX IF EXISTS contact_phone_trgm",
    "DROP INDEX IF EXISTS contact_name_key_trgm",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("contacts", "0002_optout_lift_permission")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRESQL}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRESQL_REVERSE}),
        )
    ]
