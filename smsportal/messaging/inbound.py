"""Incoming SMS: store it, and honour opt-out keywords (STOP / START and their equivalents)."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from smsportal.providers.backends.base import InboundSMS
from smsportal.providers.models import ProviderAccount

from .models import InboundMessage


def keyword_of(text: str) -> str:
    """The first word, case- and space-insensitive (STOP, stop, ' Stop.' all read STOP)."""
    words = text.strip().split()
    return words[0].strip(".!,;:").casefold() if words else ""


def receive(account: ProviderAccount, sms: InboundSMS) -> InboundMessage:
    with transaction.atomic():
        message = InboundMessage.objects.create(
            account=account,
            sender=sms.sender[:32],
            recipient=sms.recipient[:32],
            text=sms.text,
            raw=dict(sms.raw),
        )
        keyword = keyword_of(sms.text)
        if keyword in {k.casefold() for k in settings.OPT_OUT_KEYWORDS}:
            opt_out(sms.sender, f"keyword {keyword.upper()}")
        elif keyword in {k.casefold() for k in settings.OPT_IN_KEYWORDS}:
            opt_in(sms.sender)
    return message


def opt_out(phone: str, note: str) -> None:
    from smsportal.contacts.models import OptOut

    OptOut.objects.get_or_create(
        phone=phone, defaults={"reason": OptOut.Reason.KEYWORD, "note": note}
    )


def opt_in(phone: str) -> None:
    from smsportal.contacts.models import OptOut

    OptOut.objects.filter(phone=phone).delete()
