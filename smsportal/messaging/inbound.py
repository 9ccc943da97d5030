"""Incoming SMS: store it, and honour opt-out keywords (STOP / START and their equivalents)."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from smsportal.contacts.models import OptOut
from smsportal.providers.backends.base import InboundSMS
from smsportal.providers.models import ProviderAccount
from smsportal.sms.normalise import fold
from smsportal.sms.phones import parse_phone

from .models import InboundMessage

# Fewer digits than this are a national number (Kuwait's are 8); international numbers with a
# country code have at least 10 in practice.
INTERNATIONAL_MIN_DIGITS = 10


def keyword_of(text: str) -> str:
    """The first word, folded as search folds names (sms.normalise): STOP, stop, ' Stop.' all
    read stop, and إلغاء, الغاء, إلغـاء and إِلْغَاء are one keyword."""
    words = text.strip().split()
    return fold(words[0].strip(".!,;:،؛؟")) if words else ""


# The longest incoming text kept: far beyond any real concatenated SMS (255 parts of 67 UCS-2
# characters is 17,085), it bounds what one request can make us store. A longer text is stored
# cut, with `text_truncated` set, never refused: an incoming SMS is never lost.
INBOUND_TEXT_MAX_CHARS = 20_000
# The raw parameters are kept for the record; each value is cut at the same length.
RAW_VALUE_MAX_CHARS = 4 * INBOUND_TEXT_MAX_CHARS  # UCS-2 arrives as four hex digits a character


def storable(text: str) -> str:
    """No database text column holds a NUL (PostgreSQL refuses it; UCS-2 hex `0000` decodes to
    one): it becomes U+FFFD, the replacement character, so the message is stored, not lost."""
    return text.replace("\x00", "\ufffd")


def storable_raw(raw) -> dict:
    return {
        storable(str(key)): storable(value[:RAW_VALUE_MAX_CHARS])
        if isinstance(value, str)
        else value
        for key, value in dict(raw).items()
    }


def receive(account: ProviderAccount, sms: InboundSMS) -> InboundMessage:
    text = storable(sms.text)
    with transaction.atomic():
        message = InboundMessage.objects.create(
            account=account,
            sender=storable(sms.sender[:32]),
            recipient=storable(sms.recipient[:32]),
            text=text[:INBOUND_TEXT_MAX_CHARS],
            text_truncated=len(text) > INBOUND_TEXT_MAX_CHARS,
            raw=storable_raw(sms.raw),
        )
        keyword = keyword_of(sms.text)
        if keyword in {fold(k) for k in settings.OPT_OUT_KEYWORDS}:
            opt_out(sender_number(sms.sender), f"keyword {keyword.upper()}")
        elif keyword in {fold(k) for k in settings.OPT_IN_KEYWORDS}:
            opt_in(sender_number(sms.sender))
    return message


def sender_number(raw: str) -> str:
    """The sender in E.164, as every number in the portal is kept, so STOP matches the number we
    send to. Providers write it in international digits without `+` (ISMS `60123456789`), and
    a handset may show it in national form (`97119440`): international digits are tried first
    when there are enough of them for a country code, then the default region. A sender no
    parse accepts (a short code, a name) is kept as it came: it matches nothing we send to."""
    text = raw.strip()
    digits = text.isdigit()
    candidates = [text]
    if digits and len(text) >= INTERNATIONAL_MIN_DIGITS:
        candidates.insert(0, "+" + text)
    for candidate in candidates:
        parsed = parse_phone(candidate, settings.PHONE_DEFAULT_REGION)
        if parsed.valid:
            return parsed.e164
    return text[:20]


def opt_out(phone: str, note: str) -> None:
    OptOut.objects.get_or_create(
        phone=phone, defaults={"reason": OptOut.Reason.KEYWORD, "note": note}
    )


def opt_in(phone: str) -> int:
    """START lifts only an opt-out that came by keyword: one staff added or imported (with its
    note) stays until staff remove it."""
    return OptOut.objects.filter(phone=phone, reason=OptOut.Reason.KEYWORD).delete()[0]
