"""The reason's English sentences, read into notes by 0004, go."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("recurring", "0004_occurrence_note")]

    operations = [migrations.RemoveField(model_name="occurrence", name="reason")]
