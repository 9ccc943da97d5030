"""Name keys folded the Arabic-aware way (sms.normalise.fold), so existing contacts are found
as new ones are: `احمد` finds أحمد. Only keys that change are written."""

from django.db import migrations

from smsportal.sms.normalise import fold

BATCH = 2000


def refold(apps, schema_editor):
    Contact = apps.get_model("contacts", "Contact")
    changed = []
    rows = Contact.objects.order_by().values_list("pk", "name", "name_key")
    for pk, name, key in rows.iterator(chunk_size=BATCH):
        folded = fold(name)[:200]
        if folded != key:
            changed.append(Contact(pk=pk, name_key=folded))
        if len(changed) >= BATCH:
            Contact.objects.bulk_update(changed, ["name_key"])
            changed = []
    if changed:
        Contact.objects.bulk_update(changed, ["name_key"])


class Migration(migrations.Migration):
    dependencies = [("contacts", "0005_contact_fields")]
    operations = [migrations.RunPython(refold, migrations.RunPython.noop)]
