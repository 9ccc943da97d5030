"""Creating a message: guards first, then one transaction with the message and every delivery
(bulk inserts), then the dispatch task enqueued on commit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from itertools import islice

from django.db import IntegrityError, transaction
from django.utils import timezone

from smsportal.providers.backends.base import (
    MessageType,
    OutgoingMessage,
    ProviderError,
    Recipient,
)
from smsportal.providers.models import ProviderAccount
from smsportal.reports.stats import Transitions, day_of

from . import flood
from .encoding import Analysis, analyse
from .models import Delivery, DeliveryEvent, Message
from .status import DeliveryStatus

INSERT_CHUNK = 5000


class SendRefused(Exception):
    """The portal will not send this, and says why (nothing was created or sent)."""


@dataclass
class ResolvedRecipients:
    """Recipients after resolution: who gets the message, and who is skipped and why."""

    phones: list[str] = field(default_factory=list)  # E.164, unique, in order
    contact_ids: dict[str, int] = field(default_factory=dict)  # phone -> contact, where known
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (number, reason)


def analyse_for(account: ProviderAccount, body: str) -> Analysis:
    """`body` counted as `account` will send it (its backend's encoding profile): the one count
    the preview, `Message.segments`, the estimate and the affordability check all use."""
    return analyse(body, account.backend.encoding_profile)


def estimate(account: ProviderAccount, recipients: int, segments: int) -> Decimal:
    """Credits for `recipients` × `segments`, where `segments` comes from `analyse_for`."""
    return account.price_per_segment * recipients * segments


def check_sendable(
    account: ProviderAccount, body: str, sender: str, phones: Sequence[str], **options
) -> None:
    """Everything that must hold before anything is created; raises SendRefused with the reason."""
    analysis = analyse_for(account, body)
    if not analysis.sendable:
        raise SendRefused(analysis.problem)
    if analysis.segments > account.max_parts:
        raise SendRefused(
            f"The text needs {analysis.segments} parts; {account} allows at most "
            f"{account.max_parts} per message."
        )
    if not phones:
        raise SendRefused("There is no recipient to send to.")
    if not account.is_active:
        raise SendRefused(f"{account} is not active.")
    outgoing = OutgoingMessage(text=body, sender=sender, max_parts=account.max_parts, **options)
    try:
        account.backend.check_before_send(outgoing, [Recipient(phone) for phone in phones])
        flood.check(account, body, phones)
    except ProviderError as exc:
        raise SendRefused(str(exc)) from exc


def create_message(
    *,
    account: ProviderAccount,
    body: str,
    recipients: ResolvedRecipients,
    sender: str = "",
    message_type: MessageType = MessageType.TEXT,
    want_delivery_report: bool = True,
    scheduled_for: datetime | None = None,
    created_by=None,
    retry_of: Message | None = None,
    idempotency_key: str | None = None,
) -> Message:
    """Check, create and enqueue a message. Raises SendRefused before creating anything.

    With an `idempotency_key` already used, the existing message is returned and nothing new is
    created or sent.
    """
    if idempotency_key:
        existing = Message.objects.filter(idempotency_key=idempotency_key).first()
        if existing:
            return existing
    check_sendable(
        account,
        body,
        sender,
        recipients.phones,
        type=message_type,
        want_delivery_report=want_delivery_report,
    )
    analysis = analyse_for(account, body)
    message = Message(
        account=account,
        sender=sender,
        body=body,
        encoding=analysis.encoding,
        segments=analysis.segments,
        message_type=message_type,
        want_delivery_report=want_delivery_report,
        status=Message.Status.SCHEDULED if scheduled_for else Message.Status.DRAFT,
        scheduled_for=scheduled_for,
        recipient_count=len(recipients.phones),
        estimated_cost=estimate(account, len(recipients.phones), analysis.segments),
        created_by=created_by,
        retry_of=retry_of,
        idempotency_key=idempotency_key,
    )
    try:
        with transaction.atomic():
            message.save()
            _insert_deliveries(message, recipients, analysis.segments)
            transaction.on_commit(lambda: enqueue_dispatch(message))
    except IntegrityError:
        if idempotency_key:  # a second submit of the same form won the race: use its message
            return Message.objects.get(idempotency_key=idempotency_key)
        raise
    return message


def _insert_deliveries(message: Message, recipients: ResolvedRecipients, segments: int) -> None:
    def chunks(rows: Iterable[Delivery]):
        iterator = iter(rows)
        while chunk := list(islice(iterator, INSERT_CHUNK)):
            yield chunk

    queued = (
        Delivery(
            message=message,
            account_id=message.account_id,
            phone=phone,
            segments=segments,
        )
        for phone in recipients.phones
    )
    moves = Transitions()
    for chunk in chunks(queued):
        Delivery.objects.bulk_create(chunk)
        moves.add(
            day_of(chunk[0].queued_at), message.account_id, DeliveryStatus.QUEUED, count=len(chunk)
        )

    now = timezone.now()
    skipped = (
        Delivery(
            message=message,
            account_id=message.account_id,
            phone=number[:32],
            segments=segments,
            status=DeliveryStatus.SKIPPED,
            error_code="skipped",
            error_text=reason,
            final_at=now,
        )
        for number, reason in recipients.skipped
    )
    for chunk in chunks(skipped):
        created = Delivery.objects.bulk_create(chunk)
        moves.add(day_of(now), message.account_id, DeliveryStatus.SKIPPED, count=len(chunk))
        DeliveryEvent.objects.bulk_create(
            DeliveryEvent(
                delivery_id=row.pk,
                source=DeliveryEvent.Source.SUBMIT,
                from_status=DeliveryStatus.QUEUED,
                to_status=DeliveryStatus.SKIPPED,
                description=row.error_text,
            )
            for row in created
        )
    moves.apply()


def enqueue_dispatch(message: Message) -> None:
    from .tasks import dispatch_message

    if message.scheduled_for:
        dispatch_message.using(run_after=message.scheduled_for).enqueue(
            message.pk, message.scheduled_for.isoformat()
        )
    else:
        dispatch_message.enqueue(message.pk)


def reschedule(message: Message, *, body: str | None = None, scheduled_for: datetime) -> None:
    """Change a scheduled message's time (and text); the task for the old time becomes stale."""
    fields = {"scheduled_for": scheduled_for}
    if body is not None:
        analysis = analyse_for(message.account, body)
        if not analysis.sendable:
            raise SendRefused(analysis.problem)
        if analysis.segments > message.account.max_parts:
            raise SendRefused(
                f"The text needs {analysis.segments} parts; {message.account} allows at most "
                f"{message.account.max_parts} per message."
            )
        fields.update(
            body=body,
            encoding=analysis.encoding,
            segments=analysis.segments,
            estimated_cost=estimate(message.account, message.recipient_count, analysis.segments),
        )
    with transaction.atomic():
        updated = Message.objects.filter(pk=message.pk, status=Message.Status.SCHEDULED).update(
            **fields
        )
        if not updated:
            raise SendRefused("Only a message that is still scheduled can be changed.")
        if body is not None:
            Delivery.objects.filter(message=message, status=DeliveryStatus.QUEUED).update(
                segments=fields["segments"]
            )
        message.refresh_from_db()
        transaction.on_commit(lambda: enqueue_dispatch(message))


def retry(message: Message, statuses: Iterable[str], user=None) -> Message:
    """A new message to the deliveries of `message` that ended in `statuses` (staff's choice)."""
    allowed = {DeliveryStatus.FAILED, DeliveryStatus.UNKNOWN}
    wanted = [s for s in statuses if s in allowed]
    if not wanted:
        raise SendRefused("Only failed or unknown deliveries can be retried.")
    phones = list(
        dict.fromkeys(
            message.deliveries.filter(status__in=wanted)
            .order_by("id")
            .values_list("phone", flat=True)
        )
    )
    if not phones:
        raise SendRefused("No delivery of this message is in that state.")
    return create_message(
        account=message.account,
        body=message.body,
        sender=message.sender,
        recipients=ResolvedRecipients(phones=phones),
        message_type=MessageType(message.message_type),
        want_delivery_report=message.want_delivery_report,
        created_by=user,
        retry_of=message,
    )
