"""An occurrence's reason kept as a code and its values (reasons.Reason) instead of the English
sentence the worker wrote. Each stored sentence is read once, here, with the patterns of the
sentences the send path wrote; one it cannot read (a provider's words, a placeholder's problem)
is kept as its text (a `kept` reason, shown as it is). The reason column goes in 0005."""

import re

from django.db import migrations, models

# The sentences the previous version kept, as patterns of their English: a name or a figure is
# a group. The most particular first (the account's "is not active" would read any sentence).
REASONS = [
    (r"Missed \(no worker was running at the time\) and set to skip\.", "missed", {}),
    (r"The lists have no one to send to \(empty, or every member opted out\)\.", "no_one", {}),
    (r"There is no recipient to send to\.", "no_one", {}),
    (r"Every recipient has opted out; nothing was sent\.", "no_one", {}),
    (
        r"You are in no department, so you cannot send: ask a Manager to add you to one\.",
        "in_no_department",
        {},
    ),
    (r"Choose the department this message is sent for\.", "no_department", {}),
    (
        r"You are not in the department (?P<department>.+), so you cannot send for it\.",
        "not_in_department",
        {},
    ),
    (
        r"(?P<sender>.+) is not a sender ID of (?P<account>.+): choose another\.",
        "sender_unusable",
        {"kind": "unknown"},
    ),
    (
        r"(?P<sender>.+) has been retired and can no longer be sent from: choose another\.",
        "sender_unusable",
        {"kind": "retired"},
    ),
    (
        r"(?P<sender>.+) was rejected by the provider: choose another\.",
        "sender_unusable",
        {"kind": "rejected"},
    ),
    (
        r"(?P<sender>.+) is still waiting for the provider's approval: choose another\.",
        "sender_unusable",
        {"kind": "pending"},
    ),
    (
        r"(?P<account>.+) no longer lists (?P<sender>.+) among its sender IDs: choose another\.",
        "sender_unusable",
        {"kind": "unlisted"},
    ),
    (
        r"The text needs (?P<parts>[\d,]+) parts; (?P<account>.+) allows at most "
        r"(?P<most>[\d,]+) per message\.",
        "too_many_parts",
        {},
    ),
    (
        r"(?P<count>[\d,]+) (?:recipient's text needs|recipients' texts need) more parts than "
        r"the (?P<most>[\d,]+) the account allows per message\.",
        "texts_too_long",
        {},
    ),
    (r"(?P<account>.+) is not active\.", "account_inactive", {}),
]
NUMBERS = {"parts", "most", "count"}
_REASONS = [
    (re.compile(pattern + r"\Z", re.DOTALL), code, fixed) for pattern, code, fixed in REASONS
]


def note_of(reason: str) -> dict:
    """The reason the previous version kept as an English sentence, as a code and its values."""
    if not reason:
        return {}
    for pattern, code, fixed in _REASONS:
        found = pattern.match(reason)
        if found:
            values = {
                name: int(value.replace(",", "")) if name in NUMBERS else value
                for name, value in found.groupdict().items()
            }
            return {"code": code, **values, **fixed}
    return {"code": "kept", "text": reason}


# The way back: each reason in the previous version's English.
ENGLISH = {
    "missed": "Missed (no worker was running at the time) and set to skip.",
    "no_one": "The lists have no one to send to (empty, or every member opted out).",
    "in_no_department": (
        "You are in no department, so you cannot send: ask a Manager to add you to one."
    ),
    "no_department": "Choose the department this message is sent for.",
    "not_in_department": "You are not in the department {department}, so you cannot send for it.",
    "unknown": "{sender} is not a sender ID of {account}: choose another.",
    "retired": "{sender} has been retired and can no longer be sent from: choose another.",
    "rejected": "{sender} was rejected by the provider: choose another.",
    "pending": "{sender} is still waiting for the provider's approval: choose another.",
    "unlisted": "{account} no longer lists {sender} among its sender IDs: choose another.",
    "too_many_parts": "The text needs {parts} parts; {account} allows at most {most} per message.",
    "account_inactive": "{account} is not active.",
    "kept": "{text}",
}


def reason_of(note: dict) -> str:
    if not note:
        return ""
    code = note.get("code")
    if code == "texts_too_long":
        count = note["count"]
        whose = "recipient's text needs" if count == 1 else "recipients' texts need"
        return (
            f"{count:,} {whose} more parts than the {note['most']:,} the account allows per "
            "message."
        )
    if code == "sender_unusable":
        code = note.get("kind")
    return ENGLISH.get(code, "{note}").format(note=note, **note)[:500]


def to_notes(apps, schema_editor):
    occurrences = apps.get_model("recurring", "Occurrence").objects.exclude(reason="")
    _rewrite(occurrences, "reason", "note", note_of)


def to_reasons(apps, schema_editor):
    occurrences = apps.get_model("recurring", "Occurrence").objects.exclude(note={})
    _rewrite(occurrences, "note", "reason", reason_of)


def _rewrite(rows_with, source: str, target: str, convert, batch: int = 2000) -> None:
    """Write `target` from `source` in the rows that have one (sent occurrences have none), a
    batch at a time (read by key: no cursor stays open on the table while it is written)."""
    last = 0
    while rows := list(rows_with.filter(pk__gt=last).order_by("pk").only(source)[:batch]):
        for row in rows:
            setattr(row, target, convert(getattr(row, source)))
        rows_with.model.objects.bulk_update(rows, [target])
        last = rows[-1].pk


class Migration(migrations.Migration):
    dependencies = [("recurring", "0003_rows_to_general")]

    operations = [
        migrations.AddField(
            model_name="occurrence",
            name="note",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(to_notes, to_reasons),
    ]
