"""Contacts, lists and imports belong to a department (docs/departments.md): a number is a
contact once per department, a list's name unique per department; the indexes the pages use.

Dropping the phone's unique flag makes SQLite rebuild contacts_contact, and a rebuilt table
loses its triggers (the search index's, 0003, and the list counts', 0009): every trigger naming
the tables is set aside for the rebuilds and put back after, whatever it is."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


# A trigger naming contacts_contact also names contacts_contactlist's prefix: one pattern.
TABLE_PATTERN = "%contacts_contact%"


def _set_triggers_aside(apps, schema_editor):
    """Keep (in a temporary table) and drop every trigger that names a table rebuilt here, on
    it or on another (the list counts' triggers on memberships and opt-outs read contacts):
    SQLite refuses to rename a rebuilt table while a trigger names a table that is, for a
    moment, gone; and a rebuilt table's own triggers go with the old one."""
    if schema_editor.connection.vendor != "sqlite":
        return
    schema_editor.execute(
        "CREATE TEMP TABLE contacts_triggers_aside AS SELECT name, sql FROM sqlite_master"
        " WHERE type = 'trigger' AND sql LIKE %s",
        [TABLE_PATTERN],
    )
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT name FROM contacts_triggers_aside")
        for (name,) in cursor.fetchall():
            schema_editor.execute(f'DROP TRIGGER "{name}"')


def _put_triggers_back(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT sql FROM contacts_triggers_aside")
        for (sql,) in cursor.fetchall():
            schema_editor.execute(sql)
    schema_editor.execute("DROP TABLE contacts_triggers_aside")


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0009_list_measure_counts"),
        ("departments", "0002_general_department"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(_set_triggers_aside, _put_triggers_back),
        migrations.AddField(
            model_name="contact",
            name="department",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="contacts",
                to="departments.department",
                verbose_name="department",
            ),
        ),
        migrations.AddField(
            model_name="contactlist",
            name="department",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="contact_lists",
                to="departments.department",
                verbose_name="department",
            ),
        ),
        migrations.AddField(
            model_name="contactlist",
            name="shared",
            field=models.BooleanField(
                default=False,
                help_text="Every department may see this list and send to it; only yours changes it.",
                verbose_name="shared",
            ),
        ),
        migrations.AddField(
            model_name="importjob",
            name="department",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="imports",
                to="departments.department",
                verbose_name="department",
            ),
        ),
        migrations.AlterField(
            model_name="contact",
            name="phone",
            field=models.CharField(help_text="E.164, e.g. +96597119440.", max_length=20),
        ),
        migrations.AlterField(
            model_name="contactlist",
            name="name",
            field=models.CharField(max_length=100),
        ),
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(fields=["phone"], name="contact_phone"),
        ),
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(fields=["department", "-id"], name="contact_department_newest"),
        ),
        migrations.AddIndex(
            model_name="contactlist",
            index=models.Index(fields=["shared", "name"], name="list_shared"),
        ),
        migrations.AddIndex(
            model_name="importjob",
            index=models.Index(
                fields=["department", "-created_at"], name="import_department_recent"
            ),
        ),
        migrations.AddConstraint(
            model_name="contact",
            constraint=models.UniqueConstraint(
                fields=("department", "phone"),
                name="contact_phone_unique",
                violation_error_message="This department has a contact with this number.",
            ),
        ),
        migrations.AddConstraint(
            model_name="contact",
            constraint=models.UniqueConstraint(
                condition=models.Q(("department__isnull", True)),
                fields=("phone",),
                name="contact_phone_unique_no_department",
            ),
        ),
        migrations.AddConstraint(
            model_name="contactlist",
            constraint=models.UniqueConstraint(
                fields=("department", "name"),
                name="list_name_unique",
                violation_error_message="This department has a list of this name.",
            ),
        ),
        migrations.AddConstraint(
            model_name="contactlist",
            constraint=models.UniqueConstraint(
                condition=models.Q(("department__isnull", True)),
                fields=("name",),
                name="list_name_unique_no_department",
            ),
        ),
        migrations.RunPython(_put_triggers_back, _set_triggers_aside),
    ]
