"""Why an occurrence sent nothing, kept as a code and its values and written in the reader's
language.

The worker that runs a recurring send has no reader to write for, so the occurrence keeps its
reason as {"code": "sender_unusable", "sender": "ACME", ...} (the way an automatic reply keeps
its notes, keywords.outcomes) and the pages write the sentence through the catalogue when they
show it. The sentences are the send path's own (the same msgids, so the same translations).
A refusal in words from elsewhere (a provider's, the text's encoding check, a placeholder's
problem) is kept as it was given."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.db import models
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy, ngettext_lazy

from smsportal.core.text import grouped
from smsportal.credits.affordability import unaffordable_text
from smsportal.quotas.services import over_text
from smsportal.senders.selectors import WARNINGS

if TYPE_CHECKING:
    from smsportal.messaging.sending import SendRefused


class Reason(models.TextChoices):
    """What a reason says; its values (named after each) are kept beside the code."""

    NO_ONE = "no_one"  # the lists had no one to send to (empty, or every member opted out)
    IN_NO_DEPARTMENT = "in_no_department"  # its maker is in no department
    NO_DEPARTMENT = "no_department"  # the schedule has none
    NOT_IN_DEPARTMENT = "not_in_department"  # department
    ACCOUNT_INACTIVE = "account_inactive"  # account
    SENDER_UNUSABLE = "sender_unusable"  # sender, account, kind (senders.selectors.WARNINGS)
    TOO_MANY_PARTS = "too_many_parts"  # parts, account, most
    TEXTS_TOO_LONG = "texts_too_long"  # count (recipients whose own text is too long), most
    # The figures of the quota's or the balance's refusal (quotas.services.over_text,
    # credits.affordability.unaffordable_text write its sentence).
    OVER_QUOTA = "over_quota"
    UNAFFORDABLE = "unaffordable"
    MISSED = "missed"  # late (no worker ran at the time) and set to skip
    # Another sender's message held the occurrence's one-time key (messaging/idempotency.py):
    # refused since, and recorded so by recurring migration 0006 where it had pre-empted one.
    KEY_TAKEN = "key_taken"
    # The send path's refusal in words from elsewhere, or an earlier version's English that its
    # migration could not read: `text`, shown as it is.
    KEPT = "kept"


def reason(code: Reason, **values) -> dict:
    """One reason as the occurrence keeps it."""
    return {"code": code.value, **values}


SENTENCES = {
    Reason.NO_ONE: gettext_lazy(
        "The lists have no one to send to (empty, or every member opted out)."
    ),
    Reason.IN_NO_DEPARTMENT: gettext_lazy(
        "You are in no department, so you cannot send: ask a Manager to add you to one."
    ),
    Reason.NO_DEPARTMENT: gettext_lazy("Choose the department this message is sent for."),
    Reason.NOT_IN_DEPARTMENT: gettext_lazy(
        "You are not in the department %(department)s, so you cannot send for it."
    ),
    Reason.ACCOUNT_INACTIVE: gettext_lazy("%(account)s is not active."),
    Reason.TOO_MANY_PARTS: gettext_lazy(
        "The text needs %(parts)s parts; %(account)s allows at most %(most)s per message."
    ),
    # The plural follows `number`; `count` is the number as the reader groups it (1,204).
    Reason.TEXTS_TOO_LONG: ngettext_lazy(
        "%(count)s recipient's text needs more parts than the %(most)s the account allows "
        "per message.",
        "%(count)s recipients' texts need more parts than the %(most)s the account allows "
        "per message.",
        "number",
    ),
    Reason.MISSED: gettext_lazy("Missed (no worker was running at the time) and set to skip."),
    Reason.KEY_TAKEN: gettext_lazy(
        "Another message held this occurrence's one-time key, so nothing was sent."
    ),
}
NUMBERS = {"parts", "most", "count"}  # figures, grouped as the reader writes them

# The send path's codes (SendRefused.code) kept with their values; the others are kept as given.
CODES = {
    "account_inactive": Reason.ACCOUNT_INACTIVE,
    "not_in_department": Reason.NOT_IN_DEPARTMENT,
    "sender_unusable": Reason.SENDER_UNUSABLE,
    "over_quota": Reason.OVER_QUOTA,
    "unaffordable": Reason.UNAFFORDABLE,
}
# The refusals whose sentence its own app writes from the values, with the names in it.
WRITERS = {Reason.OVER_QUOTA: over_text, Reason.UNAFFORDABLE: unaffordable_text}


def of_refusal(refused: SendRefused) -> dict:
    """The reason to keep for the send path's refusal."""
    values = refused.values
    if refused.code == "no_recipients":
        return reason(Reason.NO_ONE)
    if refused.code == "idempotency_key_taken":
        return reason(Reason.KEY_TAKEN)
    if refused.code == "no_department":
        return reason(Reason.IN_NO_DEPARTMENT if values.get("in_none") else Reason.NO_DEPARTMENT)
    if refused.code == "too_many_parts" and values:
        # One text too long for the account, or some recipients' own texts (placeholders).
        code = Reason.TEXTS_TOO_LONG if "count" in values else Reason.TOO_MANY_PARTS
        return reason(code, **values)
    if refused.code in CODES and values:
        return reason(CODES[refused.code], **values)
    return reason(Reason.KEPT, text=str(refused)[:500])


def shown_reason(kept: dict) -> SafeString:
    """`kept` in the reader's language, for a page. A name inside it is isolated (<bdi>): an
    English sender ID keeps its place in an Arabic sentence; so is a reason kept as given, in
    its own direction (an English full stop stays at its end on an Arabic page)."""
    shown = _sentence(kept, escape, _isolated, _given)
    return mark_safe(shown)  # noqa: S308  (escaped in _sentence)


def reason_text(kept: dict) -> str:
    """`kept` in the reader's language, as plain text (the admin)."""
    return _sentence(kept, str, str, str)


def _isolated(value: str) -> str:
    return f"<bdi>{escape(value)}</bdi>"


def _given(text: str) -> str:
    return f'<bdi dir="auto">{escape(text)}</bdi>'


def _sentence(
    kept: dict,
    literal: Callable[[str], str],
    name: Callable[[str], str],
    given: Callable[[str], str],
) -> str:
    """The reason's sentence: `literal` makes a text safe where it goes (escapes it for a page),
    `name` a name inside it, `given` a reason kept as given. A code this version does not know
    is shown as kept."""
    if not kept:
        return ""
    try:
        code = Reason(kept["code"])
    except (KeyError, ValueError):
        return given(str(kept))
    if code == Reason.KEPT:
        return given(kept.get("text", ""))
    values = {key: value for key, value in kept.items() if key != "code"}
    if code in WRITERS:
        # Its words are the catalogue's (trusted, as a template's {% translate %}), its names
        # escaped by `name`.
        return WRITERS[code](values, name)
    if code == Reason.SENDER_UNUSABLE:
        text = WARNINGS.get(values.pop("kind", ""), WARNINGS["unknown"])
    else:
        text = SENTENCES[code]
    shown = {
        key: grouped(int(value)) if key in NUMBERS else name(str(value))
        for key, value in values.items()
    }
    if code == Reason.TEXTS_TOO_LONG:
        # Its plural is chosen as it is formatted; its values are figures only, safe as they are.
        return literal(text % {**shown, "number": int(values.get("count", 0))})
    # The sentence is made safe first, then the values (safe already) go in.
    return literal(str(text)) % shown
