"""Message templates made before departments belong to "General", which every user
then existing joined (departments migration 0002): an upgrade changes nothing for anyone."""

from django.db import migrations

MODELS = ["MessageTemplate"]


def to_general(apps, schema_editor):
    general = apps.get_model("departments", "Department").objects.filter(name="General").first()
    if general is None:
        return  # a new installation: no user and no row yet
    for name in MODELS:
        apps.get_model("message_templates", name).objects.filter(department__isnull=True).update(
            department=general
        )


class Migration(migrations.Migration):
    dependencies = [
        ("message_templates", "0002_department"),
        ("departments", "0002_general_department"),
    ]

    operations = [migrations.RunPython(to_general, migrations.RunPython.noop)]
