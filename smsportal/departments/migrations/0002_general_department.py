"""An upgrade changes nothing for anyone: every user that exists when departments arrive joins
one department, "General", which the other apps' migrations give every existing row. A new
installation (no users yet) starts with no department."""

from django.conf import settings
from django.db import migrations

GENERAL = "General"


def create_general(apps, schema_editor):
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    Department = apps.get_model("departments", "Department")
    users = list(User.objects.values_list("pk", flat=True))
    if not users:
        return
    general, _created = Department.objects.get_or_create(name=GENERAL)
    general.members.add(*users)


class Migration(migrations.Migration):
    dependencies = [
        ("departments", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(create_general, migrations.RunPython.noop)]
