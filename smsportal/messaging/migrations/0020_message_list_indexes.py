"""The messages page filtered by status or by account, newest first, as an ordered index walk
that stops at a page (SQLite otherwise sorted every message of the status or account). The
account index leads with the account, so it serves the foreign key too: its own index goes,
after the new one is in place."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0019_daily_stats_department"),
        ("providers", "0003_low_balance_alerts"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="message",
            index=models.Index(
                fields=["status", "-created_at", "-id"], name="message_status_recent"
            ),
        ),
        migrations.AddIndex(
            model_name="message",
            index=models.Index(
                fields=["account", "-created_at", "-id"], name="message_account_recent"
            ),
        ),
        migrations.AlterField(
            model_name="message",
            name="account",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="messages",
                to="providers.provideraccount",
            ),
        ),
    ]
