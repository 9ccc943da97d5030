"""Read-only queries other apps use (the compose page chooses among these)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from smsportal.providers.models import ProviderAccount

from .models import SenderID, SenderIDQuerySet, SenderStatus


def active_sender_ids(account: ProviderAccount | int) -> SenderIDQuerySet:
    """The sender IDs staff may send from on `account`: active, still listed by the provider,
    the default first, then by name. One query, served by the (account, status) index."""
    return SenderID.objects.filter(account=account).usable().order_by("-is_default", "value")


def default_sender_id(account: ProviderAccount | int) -> SenderID | None:
    """The account's default sender ID if it is usable, else None."""
    return active_sender_ids(account).filter(is_default=True).first()


def sender_choices(account: ProviderAccount | None, chosen: str | None = None) -> dict:
    """What the sender select offers for `account` (senders/_options.html): its usable sender
    IDs and, first, the account's default: the ID marked default, else the provider's default
    sender (an empty sender, as sent before any ID was added). `selected` is `chosen`, the
    form's value on a page sent back (the confirmation), else that default."""
    senders = list(active_sender_ids(account)) if account else []
    marked = next((sender for sender in senders if sender.is_default), None)
    default = marked.value if marked else ""
    return {
        "account": account,
        "senders": senders,
        "offers_provider_default": marked is None,
        "selected_sender": default if chosen is None else chosen,
    }


def sender_choices_keeping(
    account: ProviderAccount | None, chosen: str | None
) -> tuple[dict, Unusable | None]:
    """`sender_choices`, where a `chosen` sender ID no longer usable (retired since the page
    was opened, or since the form was saved) stays offered and selected, marked with why, so
    that sending or saving says why instead of switching to another sender unseen. Returns the
    choices and that sender's problem (None when it is usable)."""
    choices = sender_choices(account, chosen)
    if not account or not chosen or chosen in {s.value for s in choices["senders"]}:
        return choices, None
    problem = unusable(account, chosen)
    choices["senders"] = [*choices["senders"], {"value": chosen, "unusable": problem}]
    return choices, problem


@dataclass(frozen=True)
class Unusable:
    """Why a sender ID a form was saved with can no longer be sent from: `mark`, a word or two
    beside it in the select; `warning`, the sentence shown under it; `kind`, which of WARNINGS
    it is (a record keeps it, to write the warning in its reader's language)."""

    value: str
    mark: str
    warning: str
    kind: str = ""


# Each kind of unusable sender ID's warning, written with its sender and account.
WARNINGS = {
    "unknown": gettext_lazy("%(sender)s is not a sender ID of %(account)s: choose another."),
    "retired": gettext_lazy(
        "%(sender)s has been retired and can no longer be sent from: choose another."
    ),
    "rejected": gettext_lazy("%(sender)s was rejected by the provider: choose another."),
    "pending": gettext_lazy(
        "%(sender)s is still waiting for the provider's approval: choose another."
    ),
    "unlisted": gettext_lazy(
        "%(account)s no longer lists %(sender)s among its sender IDs: choose another."
    ),
}


def unusable(account: ProviderAccount | None, value: str) -> Unusable | None:
    """Why `value` is not among `account`'s usable sender IDs (retired, rejected...), or None
    if it is one (or is the provider's default sender, the empty value)."""
    if not value or account is None:
        return None
    return _why_unusable(
        account, value, SenderID.objects.filter(account=account, value=value).first()
    )


def unusable_among(pairs: Iterable[tuple[ProviderAccount, str]]) -> dict[tuple[int, str], Unusable]:
    """`unusable` for many (account, sender ID) pairs at once, in one query (a list's rows):
    keyed by (account pk, value), only the pairs that are not usable."""
    pairs = [(account, value) for account, value in pairs if account is not None and value]
    if not pairs:
        return {}
    known = {
        (sender.account_id, sender.value): sender
        for sender in SenderID.objects.filter(
            account__in={account.pk for account, _value in pairs},
            value__in={value for _account, value in pairs},
        )
    }
    found = {}
    for account, value in pairs:
        problem = _why_unusable(account, value, known.get((account.pk, value)))
        if problem:
            found[account.pk, value] = problem
    return found


def _why_unusable(account: ProviderAccount, value: str, sender: SenderID | None) -> Unusable | None:
    if sender is not None and sender.status == SenderStatus.ACTIVE and not sender.missing_since:
        return None
    if sender is None:
        kind, mark = "unknown", _("not of this account")
    elif sender.status == SenderStatus.RETIRED:
        kind, mark = "retired", _("retired")
    elif sender.status == SenderStatus.REJECTED:
        kind, mark = "rejected", pgettext("sender", "rejected")  # the Sender IDs page's word
    elif sender.status == SenderStatus.PENDING:
        kind, mark = "pending", _("pending")
    else:
        kind, mark = "unlisted", _("no longer listed")
    warning = WARNINGS[kind] % {"sender": value, "account": account}
    return Unusable(value, mark, warning, kind)
