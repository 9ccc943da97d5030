"""The outcome's English sentences, read into notes by 0003, go."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("keywords", "0003_autoreply_notes")]

    operations = [migrations.RemoveField(model_name="autoreply", name="outcome")]
