"""Conversations: one thread per number and account, its summary kept as SMS come and go.

The summary (`Conversation`) is written in the same transaction as the incoming SMS or the reply
that changes it, so the Inbox lists threads from one small table, newest activity first, with
keyset paging (an index on `(-last_at, -id)`), never a GROUP BY over millions of messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connections, router, transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from smsportal.contacts.models import Contact

from .models import Conversation, Delivery, InboundMessage, Message

PREVIEW_CHARS = 160
THREAD_PAGE = 50  # messages of a thread shown at once, the newest; "Earlier" pages back
INBOX_PAGE = 50


def _preview(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


def department_answered(account_id: int, phone: str) -> int | None:
    """The department a number writing in answers: that of the last message sent to it through
    the account (the (phone, queued_at) index finds it); None when nobody wrote to it."""
    return (
        Delivery.objects.filter(phone=phone, account_id=account_id)
        .order_by("-queued_at")
        .values_list("message__department_id", flat=True)
        .first()
    )


# One statement whatever the thread's state (an SMS from a new number is the common case at
# ingest): insert the summary, or move it on when the thread exists. The department is looked up
# in the same statement (the last message sent to the number through the account), and only a
# new row takes it. Table and column names are the models'; GREATEST is MAX on SQLite.
UPSERT = """
INSERT INTO {conversation} (account_id, phone, department_id, last_at, last_text,
                            last_incoming, unread, incoming, replies, created_at)
VALUES (%s, %s, COALESCE(%s, (
    -- department_answered(), for a new thread; the (phone, queued_at) index finds it
    SELECT m.department_id FROM {delivery} d JOIN {message} m ON m.id = d.message_id
    WHERE d.phone = %s AND d.account_id = %s ORDER BY d.queued_at DESC LIMIT 1
)), %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (account_id, phone) DO UPDATE SET
    last_at = {greatest}({conversation}.last_at, excluded.last_at),
    last_text = excluded.last_text,
    last_incoming = excluded.last_incoming,
    unread = {conversation}.unread + excluded.unread,
    incoming = {conversation}.incoming + excluded.incoming,
    replies = {conversation}.replies + excluded.replies
"""


def _upsert_sql(connection) -> str:
    quote = connection.ops.quote_name
    return UPSERT.format(
        conversation=quote(Conversation._meta.db_table),
        delivery=quote(Delivery._meta.db_table),
        message=quote(Message._meta.db_table),
        greatest="GREATEST" if connection.vendor == "postgresql" else "MAX",
    )


def upsert_statement(
    connection,
    account_id: int,
    phone: str,
    at: datetime,
    text: str,
    *,
    incoming: bool,
    department_id: int | None = None,
) -> tuple[str, tuple]:
    """The SQL and parameters that move the thread of `phone` on (or start it)."""
    ops = connection.ops
    return _upsert_sql(connection), (
        account_id,
        phone,
        department_id,
        phone,
        account_id,
        ops.adapt_datetimefield_value(at),
        _preview(text),
        incoming,
        1 if incoming else 0,
        1 if incoming else 0,
        0 if incoming else 1,
        ops.adapt_datetimefield_value(timezone.now()),
    )


def _bump(
    account_id: int,
    phone: str,
    at: datetime,
    text: str,
    *,
    incoming: bool,
    department_id: int | None = None,
) -> None:
    connection = connections[router.db_for_write(Conversation)]
    sql, params = upsert_statement(
        connection, account_id, phone, at, text, incoming=incoming, department_id=department_id
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def record_incoming(message: InboundMessage) -> None:
    """Call inside the transaction that stores `message`."""
    _bump(message.account_id, message.phone, message.received_at, message.text, incoming=True)


def record_reply(conversation: Conversation, text: str) -> None:
    record_reply_to(conversation.account_id, conversation.phone, text)


def record_reply_to(
    account_id: int, phone: str, text: str, department_id: int | None = None
) -> None:
    """A reply (staff's or automatic) went to `phone`: its thread shows it as the last word."""
    _bump(account_id, phone, timezone.now(), text, incoming=False, department_id=department_id)


def department_of_thread(account_id: int, phone: str):
    """The department of the thread of `phone` at the account (what its replies are sent as),
    or None."""
    convo = (
        Conversation.objects.filter(account_id=account_id, phone=phone)
        .select_related("department")
        .first()
    )
    return convo.department if convo else None


def mark_read(conversation: Conversation) -> int:
    """Mark the thread's unread SMS read; the summary loses exactly as many (an SMS arriving
    meanwhile stays unread and counted)."""
    now = timezone.now()
    with transaction.atomic():
        marked = InboundMessage.objects.filter(
            account_id=conversation.account_id,
            phone=conversation.phone,
            read_at__isnull=True,
            received_at__lte=now,
        ).update(read_at=now)
        if marked:
            Conversation.objects.filter(pk=conversation.pk).update(
                unread=Greatest(F("unread") - marked, 0)
            )
    return marked


def mark_all_read(conversations=None) -> int:
    """Mark read every unread SMS of `conversations` (a queryset: the threads the person may
    see; all when None)."""
    now = timezone.now()
    threads = Conversation.objects.all() if conversations is None else conversations
    unread = threads.filter(unread__gt=0, last_at__lte=now)
    with transaction.atomic():
        if conversations is None:
            marked = InboundMessage.objects.filter(
                read_at__isnull=True, received_at__lte=now
            ).update(read_at=now)
        else:
            marked = 0
            for account_id, phone in unread.values_list("account_id", "phone"):
                marked += InboundMessage.objects.filter(
                    account_id=account_id, phone=phone, read_at__isnull=True, received_at__lte=now
                ).update(read_at=now)
        Conversation.objects.filter(pk__in=unread.values("pk")).update(unread=0)
    return marked


@dataclass
class Item:
    """One SMS of a thread, either way."""

    at: datetime
    incoming: bool
    text: str
    inbound: InboundMessage | None = None
    delivery: Delivery | None = None
    effect: str = ""  # what an incoming STOP or START did

    @property
    def key(self) -> tuple:
        row = self.inbound or self.delivery
        return (self.at, 0 if self.incoming else 1, row.pk)


def thread(conversation: Conversation, before: datetime | None = None, limit: int = THREAD_PAGE):
    """(items oldest first, whether there are earlier ones): the newest `limit` SMS of the
    thread before `before`, incoming and outgoing merged. Two index range scans of `limit + 1`
    rows each (inbound_thread, delivery_phone_history), whatever the thread's length."""
    inbound = InboundMessage.objects.filter(
        account_id=conversation.account_id, phone=conversation.phone
    ).order_by("-received_at", "-id")
    outgoing = (
        Delivery.objects.filter(phone=conversation.phone, account_id=conversation.account_id)
        .select_related("message")
        .only(
            "phone",
            "status",
            "error_text",
            "queued_at",
            "submitted_at",
            "final_at",
            "message__id",
            "message__body",
            "message__created_by",
        )
        .order_by("-queued_at", "-id")
    )
    # Only the thread's department's own messages and the automatic replies of no department
    # (scope.py); another department's texts to the number are theirs.
    # The department as stored now (a first reply may have just given the thread one).
    department = Conversation.objects.filter(pk=conversation.pk).values("department_id")
    outgoing = outgoing.filter(
        Q(message__department_id__in=department) | Q(message__department__isnull=True)
    )
    if before:
        inbound = inbound.filter(received_at__lt=before)
        outgoing = outgoing.filter(queued_at__lt=before)
    items = [
        Item(at=m.received_at, incoming=True, text=m.text, inbound=m) for m in inbound[: limit + 1]
    ] + [
        Item(at=d.queued_at, incoming=False, text=d.message.body, delivery=d)
        for d in outgoing[: limit + 1]
    ]
    items.sort(key=lambda item: item.key)
    earlier = len(items) > limit
    return items[-limit:], earlier


def threads(
    query: str = "", cursor: str = "", limit: int = INBOX_PAGE, conversations=None, contacts=None
):
    """(conversations, next cursor or ''): newest activity first, matching `query` (part of the
    number, or the start of a contact's name: an index range, not a scan), after `cursor` (the
    last row of the previous page). `conversations`, `contacts`: those the person may see
    (scope.py, contacts/scope.py)."""

    rows = Conversation.objects.all() if conversations is None else conversations
    rows = rows.select_related("account").order_by("-last_at", "-id")
    query = query.strip()
    if query:
        digits = query.lstrip("+").replace(" ", "")
        match = Q(
            phone__in=(Contact.objects.all() if contacts is None else contacts)
            .filter(name_key__startswith=query.casefold())
            .values("phone")
        )
        if digits.isdigit():
            match |= Q(phone__contains=digits)
        rows = rows.filter(match)
    after = parse_cursor(cursor)
    if after:
        at, pk = after
        rows = rows.filter(Q(last_at__lt=at) | Q(last_at=at, id__lt=pk))
    page = list(rows[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    next_cursor = f"{page[-1].last_at.isoformat()}~{page[-1].pk}" if more and page else ""
    return page, next_cursor


def parse_cursor(cursor: str) -> tuple[datetime, int] | None:
    at, _, pk = cursor.partition("~")
    when = parse_datetime(at) if at else None
    if when is None or not pk.isdigit():
        return None
    return when, int(pk)


def name_contacts(phones, contacts=None) -> dict[str, tuple[int, str]]:
    """phone -> (contact id, name) for the contacts among `phones` (of `contacts`: those the
    person may see), in one query."""
    contacts = Contact.objects.all() if contacts is None else contacts
    return {
        phone: (pk, name)
        for pk, phone, name in contacts.filter(phone__in=set(phones)).values_list(
            "pk", "phone", "name"
        )
    }
