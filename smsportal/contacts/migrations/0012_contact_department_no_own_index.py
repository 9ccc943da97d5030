"""A contact's department loses its own index: (department, phone) and (department, -id) lead
with it already, and the third copy cost every imported contact index writing (issue 17).

The index is dropped by name rather than by AlterField: on SQLite AlterField remakes the table,
which would drop the search index's and the measure counts' triggers with it."""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "contacts_contact_department_id_66530caa"  # Django's name for it, on both databases


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0011_rows_to_general"),
        ("departments", "0002_general_department"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="contact",
                    name="department",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="contacts",
                        to="departments.department",
                        verbose_name="department",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {INDEX}",
                    f'CREATE INDEX {INDEX} ON contacts_contact ("department_id")',
                ),
            ],
        ),
    ]
