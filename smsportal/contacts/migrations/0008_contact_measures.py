from django.db import migrations, models

from smsportal.sms.measures import contact_measures


def measure_every_contact(apps, schema_editor):
    """The measures of contacts made before they existed (a chunk at a time)."""
    Contact = apps.get_model("contacts", "Contact")
    last = 0
    while True:
        chunk = list(
            Contact.objects.filter(pk__gt=last)
            .order_by("pk")
            .only("pk", "phone", "name", "email", "attributes")[:2000]
        )
        if not chunk:
            return
        for contact in chunk:
            contact.measures = contact_measures(
                phone=contact.phone,
                name=contact.name,
                email=contact.email,
                attributes=contact.attributes,
            )
        Contact.objects.bulk_update(chunk, ["measures"])
        last = chunk[-1].pk


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0007_optout_confirmation_message_id"),
    ]

    operations = [
        migrations.AddField(
            model_name="contact",
            name="measures",
            field=models.JSONField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(measure_every_contact, migrations.RunPython.noop),
    ]
