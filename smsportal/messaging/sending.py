"""Creating a message: guards first, then one transaction with the message and every delivery
(bulk inserts), then the dispatch task enqueued on commit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
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
from smsportal.sms.encoding import Analysis, analyse
from smsportal.sms.status import DeliveryStatus

from . import flood
from .message_types import measure
from .models import Delivery, DeliveryEvent, Message

INSERT_CHUNK = 5000
# How long a deduplicating provider remembers a reference (ISMS `seqno`: 24 hours), less a
# margin: within it, a delivery of unknown fate may be repeated safely.
REPEAT_WINDOW = timedelta(hours=23)
OPTED_OUT_CODE = "opted-out"  # the same words dispatch writes when it skips a number
OPTED_OUT_TEXT = "opted out"


class SendRefused(Exception):
    """The portal will not send this, and says why (nothing was created or sent)."""


@dataclass
class ResolvedRecipients:
    """Recipients after resolution: who gets the message, and who is skipped and why."""

    phones: list[str] = field(default_factory=list)  # E.164, unique, in order
    contact_ids: dict[str, int] = field(default_factory=dict)  # phone -> contact, where known
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (number, reason)
    # phone -> (seqno, first sent): a retry's repeat of a delivery of unknown fate keeps the
    # reference a deduplicating provider (ISMS) remembers, so a repeat cannot reach them twice.
    references: dict[str, tuple[str, datetime]] = field(default_factory=dict)


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
    analysis = measure(
        body,
        options.get("type", MessageType.TEXT),
        options.get("udh", True),
        account.backend.encoding_profile,
    )
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
    binary_udh: bool = True,
    barcode_format: str = "",
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
        udh=binary_udh,
        barcode_format=barcode_format,
    )
    analysis = measure(body, message_type, binary_udh, account.backend.encoding_profile)
    message = Message(
        account=account,
        sender=sender,
        body=body,
        encoding=analysis.encoding,
        segments=analysis.segments,
        message_type=message_type,
        want_delivery_report=want_delivery_report,
        binary_udh=binary_udh,
        barcode_format=barcode_format,
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

    references = recipients.references
    queued = (
        Delivery(
            message=message,
            account_id=message.account_id,
            phone=phone,
            segments=segments,
            seqno=references[phone][0] if phone in references else "",
            first_sent_at=references[phone][1] if phone in references else None,
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
            error_code=OPTED_OUT_CODE if reason == OPTED_OUT_TEXT else "skipped",
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
        analysis = measure(
            body, message.message_type, message.binary_udh, message.account.backend.encoding_profile
        )
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


class DuplicatesPossible(SendRefused):
    """Retrying would resend to numbers that may already have the message; staff must accept
    that explicitly (`accept_duplicates`)."""


@dataclass(frozen=True)
class RetryPlan:
    """What a retry of `statuses` would do, for the page to warn before staff press it."""

    phones: list[str]
    references: dict[str, tuple[str, datetime]]
    at_risk: int  # unknown deliveries that may reach their number twice
    provider: str

    @property
    def warning(self) -> str:
        return duplicates_warning(self.at_risk, self.provider)


def duplicates_warning(at_risk: int, provider: str) -> str:
    if not at_risk:
        return ""
    who = "1 recipient" if at_risk == 1 else f"{at_risk:,} recipients"
    return (
        f"{who} whose outcome is unknown may get the message twice: the first attempt may "
        f"have reached them, and {provider} cannot tell a repeat from a new message."
    )


def retry_warning(message: Message, unknown: int) -> str:
    """The warning for retrying `message`'s `unknown` deliveries, cheaply (the message page
    shows it on every refresh): no query where the provider cannot deduplicate, one count of
    those past its memory where it can."""
    if not unknown:
        return ""
    at_risk = unknown
    if message.account.backend_class.capabilities.idempotent_retry:
        safe = message.deliveries.filter(
            status=DeliveryStatus.UNKNOWN, first_sent_at__gte=timezone.now() - REPEAT_WINDOW
        ).count()
        at_risk = unknown - safe
    return duplicates_warning(at_risk, message.account.get_kind_display())


RETRYABLE = (DeliveryStatus.FAILED, DeliveryStatus.UNKNOWN)


def retry_plan(message: Message, statuses: Iterable[str]) -> RetryPlan:
    wanted = [s for s in statuses if s in RETRYABLE]
    if not wanted:
        raise SendRefused("Only failed or unknown deliveries can be retried.")
    rows = (
        message.deliveries.filter(status__in=wanted)
        .order_by("id")
        .values_list("id", "phone", "status", "seqno", "first_sent_at")
    )
    repeat_safe = message.account.backend_class.capabilities.idempotent_retry
    window_start = timezone.now() - REPEAT_WINDOW
    phones: dict[str, None] = {}
    references: dict[str, tuple[str, datetime]] = {}
    at_risk = 0
    for pk, phone, status, seqno, first_sent_at in rows.iterator(chunk_size=5000):
        phones[phone] = None
        if status != DeliveryStatus.UNKNOWN:
            continue  # refused by the provider: certainly not sent
        if repeat_safe and first_sent_at and first_sent_at >= window_start:
            references[phone] = (seqno or str(pk), first_sent_at)
        else:
            at_risk += 1
    return RetryPlan(list(phones), references, at_risk, message.account.get_kind_display())


def retry(
    message: Message, statuses: Iterable[str], user=None, *, accept_duplicates: bool = False
) -> Message:
    """A new message to the deliveries of `message` that ended in `statuses` (staff's choice).

    Numbers opted out since are skipped; the balance is checked as at compose. An unknown
    delivery at a provider that deduplicates is repeated with its original reference (sent
    once, whatever happened); elsewhere a repeat may arrive twice, so it needs
    `accept_duplicates`."""
    from smsportal.contacts.selectors import opted_out
    from smsportal.credits.affordability import Unaffordable, check_affordable

    plan = retry_plan(message, statuses)
    if not plan.phones:
        raise SendRefused("No delivery of this message is in that state.")
    if plan.at_risk and not accept_duplicates:
        raise DuplicatesPossible(plan.warning + " Confirm to send to them anyway.")
    blocked = opted_out(plan.phones)
    phones = [phone for phone in plan.phones if phone not in blocked]
    if not phones:
        raise SendRefused("Every number to retry has opted out since; nothing was sent.")
    try:
        check_affordable(
            message.account, estimate(message.account, len(phones), message.segments), user
        )
    except Unaffordable as exc:
        raise SendRefused(exc.message) from exc
    return create_message(
        account=message.account,
        body=message.body,
        sender=message.sender,
        recipients=ResolvedRecipients(
            phones=phones,
            skipped=[(phone, OPTED_OUT_TEXT) for phone in plan.phones if phone in blocked],
            references={p: ref for p, ref in plan.references.items() if p not in blocked},
        ),
        message_type=MessageType(message.message_type),
        want_delivery_report=message.want_delivery_report,
        binary_udh=message.binary_udh,
        barcode_format=message.barcode_format,
        created_by=user,
        retry_of=message,
    )
