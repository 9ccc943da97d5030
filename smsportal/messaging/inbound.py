"""Incoming SMS: store it, and honour opt-out keywords (STOP / START and their equivalents)."""

from __future__ import annotations

import functools

from django.conf import settings
from django.db import connections, router, transaction

from smsportal.contacts.models import OptOut
from smsportal.providers.backends.base import InboundSMS
from smsportal.providers.models import ProviderAccount
from smsportal.sms.keywords import first_word, normalise
from smsportal.sms.phones import parse_phone

from .conversations import record_incoming, upsert_statement
from .models import InboundMessage
from .signals import inbound_received

# Fewer digits than this are a national number (Kuwait's are 8); international numbers with a
# country code have at least 10 in practice.
INTERNATIONAL_MIN_DIGITS = 10


def keyword_of(text: str) -> str:
    """The first word, normalised (STOP, stop, ' Stop.' all read "stop"; إلغاء and الغاء are one
    word): see smsportal.sms.keywords."""
    return first_word(text)


def opt_out_keywords() -> frozenset[str]:
    return _normalised(tuple(settings.OPT_OUT_KEYWORDS))


def opt_in_keywords() -> frozenset[str]:
    return _normalised(tuple(settings.OPT_IN_KEYWORDS))


def help_keywords() -> frozenset[str]:
    return _normalised(tuple(settings.HELP_KEYWORDS))


@functools.lru_cache(maxsize=16)
def _normalised(keywords: tuple[str, ...]) -> frozenset[str]:
    # Asked for every incoming SMS: normalised once per setting's value, not per message.
    return frozenset(normalise(k) for k in keywords)


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
    """Store an incoming SMS, its conversation's summary and any opt-out it asks for, and tell
    the apps that react to it (`inbound_received`: keyword replies, forwarding), all in one
    transaction: what they write (forwarding's events) is stored with the SMS or not at all,
    and the work they queue runs once it is committed, so a provider's webhook is answered as
    soon as the SMS is stored."""
    text = storable(sms.text)
    phone = storable(sender_number(sms.sender))
    keyword = keyword_of(sms.text)
    opt = ""
    with transaction.atomic():
        message = InboundMessage(
            account=account,
            sender=storable(sms.sender[:32]),
            phone=phone[:32],
            recipient=storable(sms.recipient[:32]),
            text=text[:INBOUND_TEXT_MAX_CHARS],
            text_truncated=len(text) > INBOUND_TEXT_MAX_CHARS,
            raw=storable_raw(sms.raw),
        )
        store_with_conversation(message)
        if is_opt_out_keyword(keyword):
            opt = OPTED_OUT if opt_out(phone, f"keyword {keyword.upper()}") else ""
        elif keyword in opt_in_keywords():
            opt = OPTED_IN if opt_in(phone) else ""
        inbound_received.send(sender=InboundMessage, message=message, keyword=keyword, opt=opt)
    return message


# Only the models' table and column names are put in the text; every value is a parameter.
STORE_WITH_CONVERSATION = (
    "WITH stored AS (INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING id), "
    "thread AS ({thread}) SELECT id FROM stored"
)


def store_with_conversation(message: InboundMessage) -> None:
    """Insert `message` and move its conversation on (inside the caller's transaction). On
    PostgreSQL both are one statement (a data-modifying CTE): one round trip less per SMS, a
    fifth of ingest's; elsewhere, the ORM's insert and then the conversation's upsert."""
    connection = connections[router.db_for_write(InboundMessage)]
    if connection.vendor != "postgresql":
        message.save(force_insert=True)
        record_incoming(message)
        return
    fields = [f for f in InboundMessage._meta.concrete_fields if not f.primary_key]
    values = [f.get_db_prep_save(f.pre_save(message, add=True), connection) for f in fields]
    conversation_sql, conversation_params = upsert_statement(
        connection,
        message.account_id,
        message.phone,
        message.received_at,
        message.text,
        incoming=True,
    )
    quote = connection.ops.quote_name
    sql = STORE_WITH_CONVERSATION.format(
        table=quote(InboundMessage._meta.db_table),
        columns=", ".join(quote(f.column) for f in fields),
        marks=", ".join(["%s"] * len(fields)),
        thread=conversation_sql,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (*values, *conversation_params))
        message.pk = cursor.fetchone()[0]
    message._state.adding = False
    message._state.db = connection.alias


OPTED_OUT = "opted-out"  # this SMS put the number on the opt-out list
OPTED_IN = "opted-in"  # this SMS took the number off it


def is_opt_out_keyword(keyword: str) -> bool:
    return keyword in opt_out_keywords()


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


def opt_out(phone: str, note: str) -> bool:
    """Put `phone` on the opt-out list; True when this made a new opt-out (a second STOP from a
    number already opted out changes nothing, and earns no second confirmation)."""
    _, created = OptOut.objects.get_or_create(
        phone=phone[:20], defaults={"reason": OptOut.Reason.KEYWORD, "note": note}
    )
    return created


def opt_in(phone: str) -> int:
    """START lifts only an opt-out that came by keyword: one staff added or imported (with its
    note) stays until staff remove it."""
    return OptOut.objects.filter(phone=phone[:20], reason=OptOut.Reason.KEYWORD).delete()[0]
