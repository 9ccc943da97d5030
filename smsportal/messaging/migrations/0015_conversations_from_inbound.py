"""Incoming SMS stored before conversations existed: each gets its sender in E.164 (as
`inbound.sender_number` reads it) and its conversation summary, built once here."""

from django.db import migrations


def build(apps, schema_editor):
    from smsportal.messaging.conversations import PREVIEW_CHARS
    from smsportal.messaging.inbound import sender_number

    InboundMessage = apps.get_model("messaging", "InboundMessage")
    Conversation = apps.get_model("messaging", "Conversation")
    numbers: dict[str, str] = {}
    summaries: dict[tuple[int, str], dict] = {}
    rows = InboundMessage.objects.order_by("id").values_list(
        "id", "account_id", "sender", "text", "received_at", "read_at"
    )
    for pk, account_id, sender, text, received_at, read_at in rows.iterator(chunk_size=5000):
        phone = numbers.get(sender)
        if phone is None:
            phone = numbers[sender] = sender_number(sender)
        InboundMessage.objects.filter(pk=pk).update(phone=phone)
        summary = summaries.setdefault(
            (account_id, phone), {"last_at": received_at, "unread": 0, "incoming": 0}
        )
        summary["incoming"] += 1
        summary["unread"] += read_at is None
        if received_at >= summary["last_at"]:
            summary["last_at"] = received_at
            flat = " ".join(text.split())
            summary["last_text"] = flat[:PREVIEW_CHARS]
    Conversation.objects.bulk_create(
        [
            Conversation(account_id=account_id, phone=phone, last_incoming=True, **summary)
            for (account_id, phone), summary in summaries.items()
        ],
        batch_size=2000,
    )


class Migration(migrations.Migration):
    dependencies = [("messaging", "0014_conversations")]

    operations = [migrations.RunPython(build, migrations.RunPython.noop)]
