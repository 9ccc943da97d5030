# The daily counters move from the reports app to messaging, which keeps them (it owns the status
# changes they count). Only Django's record of the model moves: the table keeps its name
# (reports_dailydeliverystats) and its rows, so nothing is copied.

import django.db.models.deletion
from decimal import Decimal
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0011_personal_texts"),
        ("providers", "0001_initial"),
        ("reports", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="DailyDeliveryStats",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("day", models.DateField()),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("queued", "queued"),
                                    ("sending", "sending"),
                                    ("submitted", "submitted"),
                                    ("delivered", "delivered"),
                                    ("undelivered", "undelivered"),
                                    ("expired", "expired"),
                                    ("rejected", "rejected"),
                                    ("failed", "failed"),
                                    ("unknown", "unknown"),
                                    ("cancelled", "cancelled"),
                                    ("skipped", "skipped"),
                                ],
                                max_length=12,
                            ),
                        ),
                        ("reason", models.CharField(blank=True, default="", max_length=40)),
                        ("count", models.BigIntegerField(default=0)),
                        (
                            "cost",
                            models.DecimalField(
                                decimal_places=4, default=Decimal("0"), max_digits=18
                            ),
                        ),
                        (
                            "account",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                to="providers.provideraccount",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "reports_dailydeliverystats",
                        "verbose_name_plural": "daily delivery stats",
                        "indexes": [
                            models.Index(fields=["day", "account"], name="daily_stats_day")
                        ],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("day", "account", "status", "reason"),
                                name="daily_stats_key",
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
