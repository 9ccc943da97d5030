"""Fewer indexes written per delivery (issue 17, bulk dispatch).

Every delivery is written three times — inserted, claimed, given its outcome — and each write
pays for every index whose columns it changes. Two go, one is made partial:

- the account foreign key's own index: (account, provider id) and (account, queued_at) both
  begin with the account, so every lookup by account alone still has an index;
- (status, sending_at) and (status, lease_until), which only the sweeper reads (rows being
  sent whose lease ran out, or claimed before leases existed), become one index of
  (status, lease_until, sending_at) holding only `sending` rows: a delivery enters it when
  claimed and leaves it with its outcome, instead of moving in two status indexes at every
  write.

The foreign key's index is dropped by its name, not by altering the field: on SQLite Django
alters a field by copying the whole table, which would also drop the status-count triggers
(migration 0013) with the old table.
"""

import django.db.models.deletion
from django.db import migrations, models


def _account_index_name(schema_editor, apps) -> str:
    delivery = apps.get_model("messaging", "Delivery")
    table = delivery._meta.db_table
    # The name Django gave it when it created the foreign key (deterministic from the table
    # and the column, the same on SQLite and PostgreSQL).
    return schema_editor._create_index_name(table, ["account_id"], suffix="")


def drop_account_index(apps, schema_editor):
    name = schema_editor.quote_name(_account_index_name(schema_editor, apps))
    schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


def create_account_index(apps, schema_editor):
    name = schema_editor.quote_name(_account_index_name(schema_editor, apps))
    schema_editor.execute(f'CREATE INDEX {name} ON "messaging_delivery" ("account_id")')


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0020_message_list_indexes"),
        ("providers", "0003_low_balance_alerts"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="delivery", name="delivery_status_sending"),
        migrations.RemoveIndex(model_name="delivery", name="delivery_status_lease"),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="delivery",
                    name="account",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="providers.provideraccount",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunPython(drop_account_index, create_account_index),
            ],
        ),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(
                condition=models.Q(("status", "sending")),
                fields=["status", "lease_until", "sending_at"],
                name="delivery_sending_lease",
            ),
        ),
    ]
