"""django-auditlog's migrations create its own `auditlog_logentry` table even though the portal
keeps its entries in `core.AuditEntry` (AUDITLOG_LOGENTRY_MODEL). The unused table references
`django_content_type`, so on PostgreSQL a flush (TRUNCATE, as transactional tests run between
tests) of the content types is refused. Nothing reads or writes it: it goes."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_audit_trail"),
        ("auditlog", "0017_add_actor_email"),
    ]

    operations = [
        migrations.RunSQL("DROP TABLE IF EXISTS auditlog_logentry", migrations.RunSQL.noop),
    ]
