"""Read-only queries other apps use (the compose page chooses among these)."""

from __future__ import annotations

from smsportal.providers.models import ProviderAccount

from .models import SenderID, SenderIDQuerySet


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
