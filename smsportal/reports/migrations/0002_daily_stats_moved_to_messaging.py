# The daily counters now belong to messaging (messaging 0012 takes the model over, table and rows
# unchanged): the reports app forgets the model without touching the table.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_initial"),
        ("messaging", "0012_daily_delivery_stats"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="DailyDeliveryStats")],
            database_operations=[],
        ),
    ]
