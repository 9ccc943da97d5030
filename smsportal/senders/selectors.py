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
