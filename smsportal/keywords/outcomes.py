"""An automatic reply's outcome, kept as notes and written in the reader's language.

A worker records what it did with no reader to write it for, so it keeps each note as a code
and its values ({"code": "added_to", "list": "Support team"}), and the Keywords page writes the
note's sentence through the catalogue when it shows it. A list's name, an address or the send
path's refusal inside a note is shown as it was kept."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable

from django.db import models
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy


class Note(models.TextChoices):
    """What a note says; its values (named after each) are kept beside the code."""

    REPLIED = "replied"
    NO_REPLY_SET = "no_reply_set"
    ALREADY_OPTED_OUT = "already_opted_out"  # a STOP from a number opted out already
    CONFIRMED_ALREADY = "confirmed_already"  # its opt-out confirmed already, or lifted
    # Not replied, and why: the gate's refusals, or the send path's in its own words (`reason`).
    SWITCHED_OFF = "switched_off"
    QUIET_TIME = "quiet_time"  # minutes
    DAILY_LIMIT = "daily_limit"  # count
    REFUSED = "refused"  # reason
    ADDED_TO = "added_to"  # list
    ALREADY_ON = "already_on"  # list
    REMOVED_FROM = "removed_from"  # list
    NOT_ON = "not_on"  # list
    FORWARDED = "forwarded"  # address
    FORWARD_FAILED = "forward_failed"  # address, error (the exception's class)
    # A note kept in English by an earlier version that its migration could not read: `text`,
    # shown as it is.
    KEPT = "kept"


def note(code: Note, **values) -> dict:
    """One note as the record keeps it."""
    return {"code": code.value, **values}


SENTENCES = {
    Note.REPLIED: gettext_lazy("replied"),
    Note.NO_REPLY_SET: gettext_lazy("no reply set"),
    Note.ALREADY_OPTED_OUT: gettext_lazy("no confirmation: the number had opted out already"),
    Note.CONFIRMED_ALREADY: gettext_lazy(
        "no confirmation: the opt-out was confirmed already or lifted"
    ),
    Note.SWITCHED_OFF: gettext_lazy("automatic replies are switched off (a daily limit of 0)"),
    Note.QUIET_TIME: ngettext_lazy(
        "it had an automatic reply less than %(count)s minute ago",
        "it had an automatic reply less than %(count)s minutes ago",
        "count",
    ),
    Note.DAILY_LIMIT: ngettext_lazy(
        "it had %(count)s automatic reply in the last 24 hours",
        "it had %(count)s automatic replies in the last 24 hours",
        "count",
    ),
    Note.ADDED_TO: gettext_lazy("added to %(list)s"),
    Note.ALREADY_ON: gettext_lazy("already on %(list)s"),
    Note.REMOVED_FROM: gettext_lazy("removed from %(list)s"),
    Note.NOT_ON: gettext_lazy("was not on %(list)s"),
    Note.FORWARDED: gettext_lazy("forwarded to %(address)s"),
    Note.FORWARD_FAILED: gettext_lazy("e-mail to %(address)s failed: %(error)s"),
}
# A list the reader may not see, named in its place (a rule's action, a reply's note).
ANOTHER_DEPARTMENTS_LIST = gettext_lazy("a list of another department")
# The notes written inside "not replied: …", and the value each counts (the sentence's plural).
NOT_REPLIED = gettext_lazy("not replied: %(reason)s")
REFUSALS = {Note.SWITCHED_OFF, Note.QUIET_TIME, Note.DAILY_LIMIT, Note.REFUSED}
COUNTED = {Note.QUIET_TIME: "minutes", Note.DAILY_LIMIT: "count"}


def shown_outcome(notes: Iterable[dict], lists_seen: Collection[str] | None = None) -> SafeString:
    """`notes` in the reader's language, for a page. A name inside one is isolated (<bdi>): an
    English list name keeps its place in an Arabic sentence. `lists_seen`: the names of the
    lists the reader may see (None: every list); a rule of the organisation's may add a number
    of an unanswered thread (everyone's) to a department's list, whose name stays its own."""
    # The list's semicolon is the reader's: "replied; added to …", "أُرسل الرد؛ أُضيف إلى …".
    shown = escape(_("; ")).join(_sentence(n, escape, _isolated, lists_seen) for n in notes)
    return mark_safe(shown)  # noqa: S308  (each note escaped in _sentence, the separator here)


def outcome_text(notes: Iterable[dict]) -> str:
    """`notes` in the reader's language, as plain text (a task's result, the admin's list)."""
    return _("; ").join(_sentence(n, str, str) for n in notes)


def _isolated(value: str) -> str:
    return f"<bdi>{escape(value)}</bdi>"


def _sentence(
    kept: dict,
    literal: Callable[[str], str],
    name: Callable[[str], str],
    lists_seen: Collection[str] | None = None,
) -> str:
    """One note's sentence: `literal` makes a text safe where it goes (escapes it for a page),
    `name` a name or address inside it, a list's only when among `lists_seen` (None: any). A
    code this version does not know is shown as kept."""
    try:
        code = Note(kept["code"])
    except (KeyError, ValueError):
        return literal(str(kept))
    if code == Note.KEPT:
        return literal(kept.get("text", ""))
    if code == Note.REFUSED:
        return literal(str(NOT_REPLIED)) % {"reason": literal(kept.get("reason", ""))}
    text = SENTENCES[code]
    if code in COUNTED:  # its only value: a number, in the sentence's plural
        sentence = literal(text % {"count": int(kept.get(COUNTED[code], 0))})
    else:
        # The sentence is made safe first, then the values (safe already) go in.
        values = {key: name(str(value)) for key, value in kept.items() if key != "code"}
        if "list" in values and lists_seen is not None and kept["list"] not in lists_seen:
            values["list"] = literal(str(ANOTHER_DEPARTMENTS_LIST))
        sentence = literal(str(text)) % values
    if code in REFUSALS:
        return literal(str(NOT_REPLIED)) % {"reason": sentence}
    return sentence
