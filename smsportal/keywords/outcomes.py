"""An automatic reply's outcome in the reader's language.

The outcome is kept in English ("replied; added to Support team"): a worker writes it, with no
reader to write it for. The Keywords page reads each of its notes back through the catalogue;
a list's name or an address inside a note is left as it was."""

from __future__ import annotations

import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy

# Each note smsportal/keywords/services.py writes, as a pattern of its English, and its text in
# the catalogue. A group named `reason` is itself a note (read back the same way), `count` a
# number (the text's plural), any other a name or address kept as written.
NOTES = [
    (r"replied", gettext_lazy("replied")),
    (r"no reply set", gettext_lazy("no reply set")),
    (
        r"no confirmation: the number had opted out already",
        gettext_lazy("no confirmation: the number had opted out already"),
    ),
    (
        r"no confirmation: the opt-out was confirmed already or lifted",
        gettext_lazy("no confirmation: the opt-out was confirmed already or lifted"),
    ),
    (r"not replied: (?P<reason>.*)", gettext_lazy("not replied: %(reason)s")),
    (
        r"automatic replies are switched off \(a daily limit of 0\)",
        gettext_lazy("automatic replies are switched off (a daily limit of 0)"),
    ),
    (
        r"it had an automatic reply less than (?P<count>\d+) minutes? ago",
        ngettext_lazy(
            "it had an automatic reply less than %(count)s minute ago",
            "it had an automatic reply less than %(count)s minutes ago",
            "count",
        ),
    ),
    (
        r"it had (?P<count>\d+) automatic replies in the last 24 hours",
        ngettext_lazy(
            "it had %(count)s automatic reply in the last 24 hours",
            "it had %(count)s automatic replies in the last 24 hours",
            "count",
        ),
    ),
    (r"added to (?P<list>.*)", gettext_lazy("added to %(list)s")),
    (r"already on (?P<list>.*)", gettext_lazy("already on %(list)s")),
    (r"removed from (?P<list>.*)", gettext_lazy("removed from %(list)s")),
    (r"was not on (?P<list>.*)", gettext_lazy("was not on %(list)s")),
    (r"forwarded to (?P<address>.*)", gettext_lazy("forwarded to %(address)s")),
    (
        r"e-mail to (?P<address>.*) failed: (?P<error>\w+)",
        gettext_lazy("e-mail to %(address)s failed: %(error)s"),
    ),
]
_READ = [(re.compile(pattern + r"\Z", re.DOTALL), text) for pattern, text in NOTES]


def shown_outcome(outcome: str) -> SafeString:
    """`outcome`'s notes, each in the reader's language. A name inside one is isolated (<bdi>):
    an English list name keeps its place in an Arabic sentence. An unknown note stays as kept."""
    # The list's semicolon is the reader's: "replied; added to …", "أُرسل الرد؛ أُضيف إلى …".
    notes = escape(_("; ")).join(_shown_note(note) for note in outcome.split("; "))
    return mark_safe(notes)  # noqa: S308  (each note escaped in _shown_note, the separator here)


def _shown_note(note: str) -> str:
    for pattern, text in _READ:
        found = pattern.match(note)
        if not found:
            continue
        if "count" in pattern.groupindex:  # its only value: a number, in the text's plural
            return escape(text % {"count": int(found["count"])})
        # The sentence is escaped first, then the values (escaped already) go in.
        values = {
            name: _shown_note(value) if name == "reason" else f"<bdi>{escape(value)}</bdi>"
            for name, value in found.groupdict().items()
        }
        return escape(str(text)) % values
    return escape(note)
