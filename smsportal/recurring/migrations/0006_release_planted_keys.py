"""Undo what a compose form could do before its token was kept under its person's own prefix
(messaging/idempotency.py): post a recurring send's predictable key,
`recurring:<schedule>:<due time>`, as its token, so that its message held the key and the
schedule's occurrence, when it came, found that message and was recorded "sent" without sending.

A key of a recurring send belongs to a message only the schedule made: when its occurrence came
(the key's due time, UTC, or later), in the name of the schedule's creator (who never changes).
Any other message holding one lets go of it (a key is only a guard against a double send; a
past occurrence is also kept once by `occurrence_once`), and an occurrence recorded "sent" with
such a message is recorded as the send that did not happen."""

from datetime import UTC, datetime

from django.db import migrations

PREFIX = "recurring:"
KEY_TAKEN = {"code": "key_taken"}  # recurring.reasons.Reason.KEY_TAKEN


def _schedule_and_due(key: str) -> tuple[int, datetime] | None:
    try:
        schedule, due = key[len(PREFIX) :].split(":")
        return int(schedule), datetime.strptime(due, "%Y%m%d%H%M").replace(tzinfo=UTC)
    except ValueError:
        return None


def _made_by_schedule(created_at, created_by_id, due_at, schedule_creator_id) -> bool:
    return created_at >= due_at and created_by_id == schedule_creator_id


def release_planted_keys(apps, schema_editor):
    Message = apps.get_model("messaging", "Message")
    RecurringSend = apps.get_model("recurring", "RecurringSend")
    Occurrence = apps.get_model("recurring", "Occurrence")
    keyed = list(
        Message.objects.filter(idempotency_key__startswith=PREFIX).values_list(
            "pk", "idempotency_key", "created_at", "created_by_id"
        )
    )
    due = {pk: _schedule_and_due(key) for pk, key, _at, _by in keyed}
    creators = dict(
        RecurringSend.objects.filter(
            pk__in={parsed[0] for parsed in due.values() if parsed}
        ).values_list("pk", "created_by_id")
    )
    planted = [
        pk
        for pk, _key, created_at, created_by_id in keyed
        if not due[pk]
        or due[pk][0] not in creators
        or not _made_by_schedule(created_at, created_by_id, due[pk][1], creators[due[pk][0]])
    ]
    Message.objects.filter(pk__in=planted).update(idempotency_key=None)

    sent = Occurrence.objects.filter(status="sent", message__isnull=False).values_list(
        "pk", "due_at", "schedule__created_by_id", "message__created_at", "message__created_by_id"
    )
    false = [
        pk
        for pk, due_at, creator_id, created_at, created_by_id in sent.iterator()
        if not _made_by_schedule(created_at, created_by_id, due_at, creator_id)
    ]
    Occurrence.objects.filter(pk__in=false).update(status="failed", message=None, note=KEY_TAKEN)


class Migration(migrations.Migration):
    dependencies = [
        ("recurring", "0005_remove_occurrence_reason"),
        ("messaging", "0023_message_sender_recent"),
    ]

    operations = [migrations.RunPython(release_planted_keys, migrations.RunPython.noop)]
