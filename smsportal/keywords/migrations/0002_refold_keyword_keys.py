"""Keyword keys made again by `sms.keywords.normalise`, which now builds on `sms.normalise.fold`
(hamza on waw and yeh, Arabic-Indic digits, compatibility forms), so stored rules match what
incoming SMS are folded to."""

from django.db import migrations

from smsportal.sms.keywords import normalise


def refold(apps, schema_editor):
    KeywordRule = apps.get_model("keywords", "KeywordRule")
    for rule in KeywordRule.objects.only("keyword", "keyword_key").iterator():
        key = normalise(rule.keyword)
        if key != rule.keyword_key:
            KeywordRule.objects.filter(pk=rule.pk).update(keyword_key=key)


class Migration(migrations.Migration):
    dependencies = [("keywords", "0001_initial")]

    operations = [migrations.RunPython(refold, migrations.RunPython.noop)]
