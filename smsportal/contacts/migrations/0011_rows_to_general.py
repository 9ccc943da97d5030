"""Contacts, lists and imports made before departments belong to "General", which every user
then existing joined (departments migration 0002): an upgrade changes nothing for anyone."""

from django.db import migrations

MODELS = ["Contact", "ContactList", "ImportJob"]


def to_general(apps, schema_editor):
    general = apps.get_model("departments", "Department").objects.filter(name="General").first()
    if general is None:
        return  # a new installation: no user and no row yet
    for name in MODELS:
        apps.get_model("contacts", name).objects.filter(department__isnull=True).update(
            department=general
        )


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0010_department"),
        ("departments", "0002_general_department"),
    ]

    operations = [migrations.RunPython(to_general, migrations.RunPython.noop)]
