"""An automatic reply's outcome kept as notes (a code and its values, outcomes.Note) instead of
English sentences that the Keywords page read back through patterns. Each stored sentence is
read once, here, with the patterns of the version that wrote it; one it cannot read is kept as
its text (a `kept` note, shown as it is). The outcome column goes in 0004."""

import re

from django.db import migrations, models

# The notes the previous version wrote (services.py), as patterns of its English: a list's
# name or an address is a group; "not replied: …" holds a refusal, read by REFUSALS.
NOTES = [
    (r"replied", "replied"),
    (r"no reply set", "no_reply_set"),
    (r"no confirmation: the number had opted out already", "already_opted_out"),
    (r"no confirmation: the opt-out was confirmed already or lifted", "confirmed_already"),
    (r"added to (?P<list>.*)", "added_to"),
    (r"already on (?P<list>.*)", "already_on"),
    (r"removed from (?P<list>.*)", "removed_from"),
    (r"was not on (?P<list>.*)", "not_on"),
    (r"forwarded to (?P<address>.*)", "forwarded"),
    (r"e-mail to (?P<address>.*) failed: (?P<error>\w+)", "forward_failed"),
]
REFUSALS = [
    (r"automatic replies are switched off \(a daily limit of 0\)", "switched_off"),
    (r"it had an automatic reply less than (?P<minutes>\d+) minutes? ago", "quiet_time"),
    (r"it had (?P<count>\d+) automatic replies in the last 24 hours", "daily_limit"),
]
NOT_REPLIED = re.compile(r"not replied: (?P<reason>.*)\Z", re.DOTALL)
NUMBERS = {"minutes", "count"}


def _compiled(patterns):
    return [(re.compile(pattern + r"\Z", re.DOTALL), code) for pattern, code in patterns]


_NOTES = _compiled(NOTES)
_REFUSALS = _compiled(REFUSALS)


def notes_of(outcome: str) -> list[dict]:
    """The notes of an outcome the previous version kept as "note; note; …"."""
    return [_note_of(text) for text in outcome.split("; ")] if outcome else []


def _note_of(text: str) -> dict:
    refused = NOT_REPLIED.match(text)
    if refused:
        reason = refused["reason"]
        return _matched(reason, _REFUSALS) or {"code": "refused", "reason": reason}
    return _matched(text, _NOTES) or {"code": "kept", "text": text}


def _matched(text: str, patterns) -> dict | None:
    for pattern, code in patterns:
        found = pattern.match(text)
        if found:
            values = {
                name: int(value) if name in NUMBERS else value
                for name, value in found.groupdict().items()
            }
            return {"code": code, **values}
    return None


# The way back: each note in the previous version's English.
ENGLISH = {
    "replied": "replied",
    "no_reply_set": "no reply set",
    "already_opted_out": "no confirmation: the number had opted out already",
    "confirmed_already": "no confirmation: the opt-out was confirmed already or lifted",
    "switched_off": "not replied: automatic replies are switched off (a daily limit of 0)",
    "refused": "not replied: {reason}",
    "added_to": "added to {list}",
    "already_on": "already on {list}",
    "removed_from": "removed from {list}",
    "not_on": "was not on {list}",
    "forwarded": "forwarded to {address}",
    "forward_failed": "e-mail to {address} failed: {error}",
    "kept": "{text}",
}


def outcome_of(notes: list[dict]) -> str:
    return "; ".join(_english(note) for note in notes)[:300]


def _english(note: dict) -> str:
    code = note.get("code")
    if code == "quiet_time":
        minutes = note["minutes"]
        return (
            f"not replied: it had an automatic reply less than {minutes} "
            f"minute{'s' if minutes != 1 else ''} ago"
        )
    if code == "daily_limit":
        return f"not replied: it had {note['count']} automatic replies in the last 24 hours"
    return ENGLISH.get(code, "{note}").format(note=note, **note)


def to_notes(apps, schema_editor):
    _rewrite(apps.get_model("keywords", "AutoReply"), "outcome", "notes", notes_of)


def to_outcome(apps, schema_editor):
    _rewrite(apps.get_model("keywords", "AutoReply"), "notes", "outcome", outcome_of)


def _rewrite(model, source: str, target: str, convert, batch: int = 2000) -> None:
    """Write `target` from `source` in every row, a batch of rows at a time (read by key: no
    cursor stays open on the table while it is written)."""
    last = 0
    while rows := list(model.objects.filter(pk__gt=last).order_by("pk").only(source)[:batch]):
        for row in rows:
            setattr(row, target, convert(getattr(row, source)))
        model.objects.bulk_update(rows, [target])
        last = rows[-1].pk


class Migration(migrations.Migration):
    dependencies = [("keywords", "0002_refold_keyword_keys")]

    operations = [
        migrations.AddField(
            model_name="autoreply",
            name="notes",
            field=models.JSONField(default=list),
        ),
        migrations.RunPython(to_notes, to_outcome),
    ]
