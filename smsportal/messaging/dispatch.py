"""Dispatch: cut a message's deliveries into batches, claim them, submit them, record outcomes.

Exactly once or honestly unknown, and never to a number that opted out:
- a batch claims its rows a few requests at a time, just before they go, with a conditional
  UPDATE (only `queued` rows become `sending`, stamped with the batch's token), so two workers
  never send the same delivery; the same statement leaves out numbers on the opt-out list, which
  the batch then marks `skipped: opted out` — the check is made at dispatch, for every delivery;
- each answer is recorded as it comes, and only onto rows the batch still holds: a worker killed
  mid-batch leaves `sending` only the requests that were on the wire;
- a batch renews a lease on its rows (a heartbeat); the sweeper takes only rows whose lease ran
  out, so a slow but live batch is never swept, and a late answer after a sweep changes nothing;
- a transient error that certainly happened before the request left is retried with back-off;
  after the request may have left, only a provider that makes repeats safe (ISMS `seqno`) is
  asked again, otherwise the delivery becomes `unknown` with the reason;
- a dead worker's `sending` rows become `unknown` — never a second send — except at a provider
  that deduplicates (ISMS), where they go again with the same reference, within its memory.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import queue
import time
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from operator import itemgetter

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone, translation

from smsportal.contacts.models import OptOut
from smsportal.credits.models import BalanceSnapshot, BalanceSource
from smsportal.providers.backends.base import (
    Backend,
    Balance,
    OutgoingMessage,
    ProtocolError,
    ProviderError,
    Recipient,
    SendResult,
    SubmitStatus,
    TransientError,
)
from smsportal.providers.models import ProviderAccount
from smsportal.routing import breaker
from smsportal.routing.prices import PriceTable
from smsportal.senders.selectors import Unusable, unusable
from smsportal.sms.status import DeliveryStatus

from . import failover, quota_step
from .bulk_insert import max_parameters
from .compiled import (
    MARKER_FIRST,
    MARKER_ID,
    MARKER_LAST,
    MARKER_TIMES,
    Compiled,
    adapted_time,
    select_sql,
    update_sql,
)
from .daily_stats import Transitions, day_of
from .delivery_reports import apply_unmatched_reports
from .id_lists import one_parameter
from .models import Delivery, DeliveryEvent, Message
from .parts import record_parts
from .sending import OPTED_OUT_CODE, OPTED_OUT_TEXT, REPEAT_WINDOW
from .signals import message_done

log = logging.getLogger(__name__)

# Deliveries per batch task: enough requests to keep pooled connections busy, few enough that
# several workers share a message (a crash strands only the requests on the wire: rows are
# claimed a few requests at a time). A task's fixed costs (taking the task, reading the message
# and its account, the opt-out sweeps, the check for the end) are paid once a task: where one
# request carries many numbers, a task is at least TASK_REQUESTS requests (KwtSMS: 5,000
# deliveries, where 1,000 had been 5 requests and those costs about a fifth of the worker's CPU).
TASK_DELIVERIES = 1000
TASK_REQUESTS = 25
MAX_TRIES = 3
RETRY_BACKOFF = 0.5  # seconds, doubled per try

_SUBMIT_STATUS = {
    SubmitStatus.SUBMITTED: DeliveryStatus.SUBMITTED,
    SubmitStatus.FAILED: DeliveryStatus.FAILED,
    SubmitStatus.UNKNOWN: DeliveryStatus.UNKNOWN,
}


@dataclass(frozen=True)
class Outcome:
    """What one delivery's submit came to."""

    delivery_id: int
    status: DeliveryStatus
    provider_message_id: str = ""
    error_code: str = ""
    error_text: str = ""
    segments: int | None = None
    confirmed: bool = True
    part_ids: tuple[str, ...] = ()  # SMPP: every part's id, so each part's receipt matches
    # The request certainly left nothing at the provider (routing.breaker.not_taken): counted
    # by the account's circuit breaker.
    not_taken: bool = False


def outgoing_for(message: Message) -> OutgoingMessage:
    return OutgoingMessage(
        text=message.body,
        sender=message.sender,
        type=message.message_type,
        want_delivery_report=message.want_delivery_report,
        udh=message.binary_udh,
        barcode_format=message.barcode_format,
        max_parts=message.account.max_parts,
    )


def by_text(outgoing: OutgoingMessage, rows: Sequence[Delivery]):
    """(what to send, rows) per distinct text: a personalised message's deliveries each carry
    their own text, and one request carries one text to many numbers. The send stores them
    sorted by text, so a request's worth of rows mostly shares one."""
    groups: dict[str, list[Delivery]] = {}
    for row in rows:
        groups.setdefault(row.text, []).append(row)
    for text, group in groups.items():
        yield (dataclasses.replace(outgoing, text=text) if text else outgoing), group


def bulk_size(backend: Backend, message: Message | None = None) -> int:
    """Recipients per request: more where the provider takes many at once for a message that
    asks for no delivery report (ISMS ISendSMSNoDR)."""
    capabilities = backend.capabilities
    wants_none = message is not None and not message.want_delivery_report
    if wants_none and capabilities.bulk_size_without_reports:
        return capabilities.bulk_size_without_reports
    return max(1, capabilities.bulk_size)


def task_size(backend: Backend, message: Message | None = None) -> int:
    bulk = bulk_size(backend, message)
    return bulk * max(TASK_REQUESTS, TASK_DELIVERIES // bulk)


def batch_ranges(message: Message, size: int) -> Iterator[tuple[int, int]]:
    """(first id, last id) of consecutive runs of `size` queued deliveries, streamed."""
    ids = (
        Delivery.objects.filter(message=message, status=DeliveryStatus.QUEUED)
        .order_by("id")
        .values_list("id", flat=True)
    )
    batch: list[int] = []
    for delivery_id in ids.iterator(chunk_size=10_000):
        batch.append(delivery_id)
        if len(batch) == size:
            yield batch[0], batch[-1]
            batch = []
    if batch:
        yield batch[0], batch[-1]


# --- one batch ---------------------------------------------------------------------------------

UNDECRYPTABLE_CODE = "cannot-decrypt"
UNDECRYPTABLE_TEXT = (
    "cannot decrypt the account password (FIELD_ENCRYPTION_KEY is not the key it was saved "
    "with); nothing was sent."
)


def lease_seconds() -> float:
    return max(1.0, float(settings.SENDING_LEASE_SECONDS))


def _opted_out(message_id: int) -> Exists:
    """Whether the delivery's number is on the opt-out list (the list of _opted_out_phones),
    asked of the row: the list's unique index answers each claimed row. `phone IN (SELECT
    …)` built the whole list afresh (SQLite a temporary index, PostgreSQL a hash) at every
    claim, a few rows at a time for a per-request provider, so each claim cost as much as
    the list is long."""
    return Exists(
        OptOut.objects.filter(phone=OuterRef("phone")).exclude(confirmation_message_id=message_id)
    )


def _opted_out_phones(message_id: int):
    """The numbers this message must not reach: every opt-out but the one whose confirmation
    this message is (the one message an opted-out number may get, see OptOut.confirmation)."""
    return OptOut.objects.exclude(confirmation_message_id=message_id).values("phone")


@dataclass(frozen=True, slots=True)
class Claimed:
    """A claimed delivery, as much of it as sending and recording need (a plain row read as
    values: a model instance per delivery was a tenth of the worker's time)."""

    id: int
    phone: str
    text: str
    segments: int
    queued_at: object
    seqno: str

    @property
    def pk(self) -> int:
        return self.id

    @property
    def reference(self) -> str:
        """What a deduplicating provider is given to recognise a repeat (Delivery.reference)."""
        return self.seqno or str(self.id)


def claim(message_id: int, ids: Sequence[int], token: str) -> list[Claimed]:
    """Move these queued deliveries to `sending` under `token`, with a fresh lease; return them.

    The opt-out list is read in the same statement: a number that opted out after the message
    was composed (or scheduled, or copied from a retry) is never claimed, so never sent."""
    if not ids:
        return []
    statements = _claim_statements(connection.vendor, message_id, token)
    now = timezone.now()
    listed = {"ids": one_parameter(ids, "bigint").params[0], "first": min(ids), "last": max(ids)}
    with connection.cursor() as cursor:
        statements.update.execute(
            cursor,
            now=statements.adapt(now),
            lease=statements.adapt(now + timedelta(seconds=lease_seconds())),
            **listed,
        )
        # Read back by token even when this UPDATE claimed nothing: after a lost connection, a
        # repeated claim finds the rows the first one took (it may have committed unseen).
        # Read with a plain cursor: the ORM's per-row converters turned each row's queued_at
        # text into a datetime anew, where a message's rows share one or a few (_queued_times).
        statements.read.execute(cursor, **listed)
        fetched = cursor.fetchall()
    when = _queued_times()
    return [
        Claimed(delivery_id, phone, text, segments, when(queued_at), seqno)
        for delivery_id, phone, text, segments, queued_at, seqno in fetched
    ]


@dataclass(frozen=True, slots=True)
class _ClaimStatements:
    update: Compiled
    read: Compiled
    adapt: object  # a time -> as the database is given it


@functools.lru_cache(maxsize=16)
def _claim_statements(vendor: str, message_id: int, token: str) -> _ClaimStatements:
    """The claim's UPDATE and its read-back as the ORM writes them, compiled once per batch
    (its token): a batch of a per-request provider claims a few rows hundreds of times, and
    building the querysets cost eight times running them (see compiled.py).

    Both also name the ids' range, which the list implies: PostgreSQL, not knowing how many
    ids the list holds, walked every queued row of the message (or every row the batch had
    claimed, by its token) and joined each with the list — a claim of 4 rows read 4,000 — where
    the range makes it read the few rows of the (message, status, id) index it wants."""
    del vendor  # part of the key only: the SQL differs between databases
    field = Delivery._meta.get_field("sending_at")
    now_marker, lease_marker = MARKER_TIMES
    ids_marker = one_parameter([MARKER_ID], "bigint")
    these = {"id__in": ids_marker, "id__gte": MARKER_FIRST, "id__lte": MARKER_LAST}
    sql, params = update_sql(
        Delivery.objects.filter(
            message_id=message_id, status=DeliveryStatus.QUEUED, **these
        ).exclude(_opted_out(message_id)),
        status=DeliveryStatus.SENDING,
        claim=token,
        sending_at=now_marker,
        first_sent_at=Coalesce("first_sent_at", Value(now_marker)),
        lease_until=lease_marker,
        attempts=F("attempts") + 1,
    )
    listed = {"ids": ids_marker.params[0], "first": MARKER_FIRST, "last": MARKER_LAST}
    markers = {
        "now": adapted_time(field, now_marker),
        "lease": adapted_time(field, lease_marker),
        **listed,
    }
    update = Compiled.of(sql, params, markers)
    read = Compiled.of(
        *select_sql(
            Delivery.objects.filter(
                message_id=message_id, claim=token, status=DeliveryStatus.SENDING, **these
            )
            .order_by("id")
            .values_list("id", "phone", "text", "segments", "queued_at", "seqno")
        ),
        listed,
    )
    return _ClaimStatements(update, read, lambda value: adapted_time(field, value))


def _queued_times():
    """queued_at as the database gives it -> the aware datetime the ORM would make of it,
    converted once per distinct value (a send writes its rows with one time)."""
    convert = getattr(connection.ops, "convert_datetimefield_value", None)
    if convert is None:  # PostgreSQL: the driver gives aware datetimes already
        return lambda value: value
    seen: dict = {}

    def when(value):
        moment = seen.get(value)
        if moment is None:
            moment = seen[value] = convert(value, None, connection)
        return moment

    return when


def skip_opted_out(message_id: int, first_id: int, last_id: int) -> int:
    """Queued deliveries of this range whose number is on the opt-out list become `skipped:
    opted out`."""
    return _settle_unsent(
        message_id,
        first_id,
        last_id,
        Q(phone__in=_opted_out_phones(message_id)),
        status=DeliveryStatus.SKIPPED,
        code=OPTED_OUT_CODE,
        text=OPTED_OUT_TEXT,
        event="Not sent: the number opted out before it was sent.",
    )


def fail_undecryptable(message_id: int, first_id: int, last_id: int) -> int:
    """The account's password cannot be read, so no request can be built: the range's queued
    deliveries fail, certainly unsent (never `unknown`)."""
    return _fail_unsent(message_id, first_id, last_id, UNDECRYPTABLE_CODE, UNDECRYPTABLE_TEXT)


SENDER_UNUSABLE_CODE = "sender-unusable"


def _unusable_sender(message: Message) -> Unusable | None:
    # In the portal's language of record, as the provider's own error texts are kept.
    with translation.override(settings.LANGUAGE_CODE):
        return unusable(message.account, message.sender)


def fail_unusable_sender(message_id: int, first_id: int, last_id: int, problem: Unusable) -> int:
    """The message's sender ID can no longer be sent from: the range's queued deliveries fail,
    certainly unsent, saying why."""
    text = f"Not sent: {problem.warning}"
    return _fail_unsent(message_id, first_id, last_id, SENDER_UNUSABLE_CODE, text)


CANNOT_CARRY_CODE = "cannot-carry"


def fail_refused_through(through: Message, ids: list[int], refusal: str) -> int:
    """Deliveries moved to `through.account` that it can no longer carry (`failover.rounds`:
    its sender ID retired since the move, the account stopped) fail there, certainly unsent,
    saying why, and move on to the route's next account (`failover.move_failed`): never sent
    from a sender nobody chose. Returns how many were settled (those that did not move)."""
    text = f"Not sent: {refusal}."
    failed = _settle_unsent(
        through.pk,
        min(ids),
        max(ids),
        Q(id__in=ids, account_id=through.account_id),
        status=DeliveryStatus.FAILED,
        code=CANNOT_CARRY_CODE,
        text=text,
        event=text,
        reason=CANNOT_CARRY_CODE,
    )
    return failed - failover.move_failed(through, ids)


def _fail_unsent(message_id: int, first_id: int, last_id: int, code: str, text: str) -> int:
    """The range's queued deliveries fail with `code` and `text` (also their event's, and the
    daily summary's reason): no request was made, so they are certainly unsent."""
    return _settle_unsent(
        message_id,
        first_id,
        last_id,
        Q(),
        status=DeliveryStatus.FAILED,
        code=code,
        text=text,
        event=text,
        reason=code,
    )


def _settle_unsent(
    message_id, first_id, last_id, narrow: Q, *, status, code, text, event, reason=""
) -> int:
    """Queued deliveries of the range (narrowed by `narrow`) end in `status` without any
    request: one UPDATE, then the daily summary and the events only when a row moved."""
    token = uuid.uuid4().hex
    with transaction.atomic():
        rows = Delivery.objects.filter(
            narrow,
            message_id=message_id,
            id__gte=first_id,
            id__lte=last_id,
            status=DeliveryStatus.QUEUED,
        )
        moved = _mark(
            rows,
            token=token,
            status=status,
            error_code=code,
            error_text=text,
            final_at=timezone.now(),
        )
        if moved:
            _count_moves(token, DeliveryStatus.QUEUED, status, reason)
            quota_step.give_back_marked(message_id, token)
            _events_for(token, DeliveryEvent.Source.SUBMIT, DeliveryStatus.QUEUED, status, event)
    return moved


def password_readable(account) -> bool:
    try:
        account.password  # noqa: B018  (decrypting is the check)
    except ImproperlyConfigured:
        return False
    return True


def submit(
    backend: Backend, outgoing: OutgoingMessage, rows: Sequence[Delivery]
) -> tuple[list[Outcome], Balance | None]:
    """Send one request's worth of deliveries; never raises, never reports a doubt as a send.
    Also returns the balance the provider reported after the send, if it did."""
    recipients = [Recipient(phone=row.phone, reference=row.reference) for row in rows]
    ids = [row.id for row in rows]
    idempotent = backend.capabilities.idempotent_retry
    error: ProviderError | None = None
    for attempt in range(MAX_TRIES):
        if attempt:
            time.sleep(RETRY_BACKOFF * 2 ** (attempt - 1))
        try:
            result = backend.send(outgoing, recipients)
            return _outcomes(ids, recipients, result), result.balance_after
        except TransientError as exc:
            error = exc
            if exc.request_sent and not idempotent:
                break
        except ProtocolError as exc:
            error = exc
            if not idempotent:
                break
        except ProviderError as exc:  # a refusal of the whole request: nothing was sent
            return [
                Outcome(
                    i,
                    DeliveryStatus.FAILED,
                    error_code=exc.code,
                    error_text=str(exc),
                    not_taken=breaker.not_taken(exc),
                )
                for i in ids
            ], None
        except ImproperlyConfigured:
            # The password is decrypted while the request is built, before anything leaves.
            return [
                Outcome(
                    i,
                    DeliveryStatus.FAILED,
                    error_code=UNDECRYPTABLE_CODE,
                    error_text=UNDECRYPTABLE_TEXT,
                    not_taken=True,
                )
                for i in ids
            ], None
        except Exception as exc:
            log.exception("backend %s crashed while sending", backend.label)
            return [
                Outcome(
                    i,
                    DeliveryStatus.UNKNOWN,
                    error_code="internal",
                    error_text=f"The portal failed while sending ({type(exc).__name__}); "
                    "the message may or may not have gone.",
                )
                for i in ids
            ], None
    assert error is not None
    if isinstance(error, TransientError) and not error.request_sent:
        # Every try failed before the request reached the provider: certainly not sent.
        status, text = DeliveryStatus.FAILED, f"Not sent: {error}"
    else:
        status, text = DeliveryStatus.UNKNOWN, f"Outcome unknown: {error}"
    outcomes = [
        Outcome(
            i,
            status,
            error_code=error.code or "transient",
            error_text=text,
            not_taken=status == DeliveryStatus.FAILED,
        )
        for i in ids
    ]
    return outcomes, None


def _outcomes(ids: list[int], recipients: list[Recipient], result: SendResult) -> list[Outcome]:
    by_reference = {r.recipient.reference: r for r in result.results}
    outcomes = []
    for delivery_id, recipient in zip(ids, recipients, strict=True):
        r = by_reference.get(recipient.reference)
        if r is None:
            outcomes.append(
                Outcome(
                    delivery_id,
                    DeliveryStatus.UNKNOWN,
                    error_code="no-answer",
                    error_text="The provider's answer did not mention this recipient.",
                )
            )
            continue
        outcomes.append(
            Outcome(
                delivery_id,
                _SUBMIT_STATUS[r.status],
                provider_message_id=r.provider_message_id,
                error_code=r.error_code,
                error_text=r.error_text,
                segments=r.segments,
                confirmed=r.confirmed,
                part_ids=r.part_ids,
            )
        )
    return outcomes


def record(
    message: Message,
    token: str,
    rows: Sequence[Delivery],
    outcomes: list[Outcome],
    prices: PriceTable | None = None,
) -> int:
    """Write outcomes back in bulk, with one history event per delivery; returns how many.

    Only rows this batch still holds (`sending` under its `token`) are written, in the same
    transaction that locks them: if the sweeper took a row first (its lease ran out), the late
    answer changes neither its status nor the daily counts. It only leaves the provider's id,
    where the row has none, so a delivery report can still settle it. `prices`: the account's
    table, when the caller read it once for many calls."""
    now = timezone.now()
    prices = prices or PriceTable.of(message.account)  # each recipient at its destination's price
    by_id = {row.id: row for row in rows}
    with transaction.atomic():
        with connection.cursor() as cursor:
            _held_statement(connection.vendor, message.pk, token).execute(
                cursor,
                ids=one_parameter(by_id, "bigint").params[0],
                first=min(by_id, default=0),
                last=max(by_id, default=0),
            )
            held = {delivery_id for (delivery_id,) in cursor.fetchall()}
        written = []
        # What moved, per (day, new status, reason): [count, cost]. Counted here and added to
        # the daily summary once per group, not twice per delivery.
        groups: dict[tuple, list] = {}
        days: dict = {}  # queued_at -> its day: a message's rows mostly share one
        costs: dict[tuple, Decimal] = {}  # (price key, segments) -> price * segments
        late = []
        for outcome in outcomes:
            if outcome.delivery_id not in held:
                late.append(outcome)
                continue
            row = by_id[outcome.delivery_id]
            segments = outcome.segments or row.segments
            status = outcome.status
            submitted_at = final_at = cost = None
            if status == DeliveryStatus.SUBMITTED or status == DeliveryStatus.UNKNOWN:
                # Unknown: may have been charged; counted until known.
                key = (prices.key_of(row.phone), segments)
                cost = costs.get(key)
                if cost is None:
                    cost = costs[key] = prices.price_of(row.phone) * segments
                if status == DeliveryStatus.SUBMITTED:
                    submitted_at = now
            else:
                final_at = now
            reason = outcome.error_code[:40]
            written.append(
                (
                    status,
                    outcome.provider_message_id,
                    reason,
                    outcome.error_text,
                    outcome.confirmed,
                    segments,
                    submitted_at,
                    final_at,
                    cost,
                    row.id,
                    token,
                )
            )
            day = days.get(row.queued_at)
            if day is None:
                day = days[row.queued_at] = day_of(row.queued_at)
            group = groups.setdefault((day, status, reason), [0, Decimal("0")])
            group[0] += 1
            if cost is not None:
                group[1] += cost
        moves = Transitions()
        for (day, status, reason), (count, cost) in groups.items():
            moves.add(
                day, message.account_id, message.department_id, DeliveryStatus.QUEUED, "", -count
            )
            moves.add(day, message.account_id, message.department_id, status, reason, count, cost)
        _write_outcomes(written)
        record_parts(message.account_id, ((o.delivery_id, o.part_ids) for o in outcomes))
        _submit_events([row[9] for row in written], now)
        moves.apply()
        # Refused before or at the provider's door: not charged, so not counted in a quota.
        unsent = sum(row[5] for row in written if row[0] == DeliveryStatus.FAILED)
        quota_step.give_back(message.pk, unsent, message.account_id)  # the account of this round
        if late:
            _keep_late_answers(late)
    return len(written)


@functools.lru_cache(maxsize=16)
def _held_statement(vendor: str, message_id: int, token: str) -> Compiled:
    """The outcome lock's SELECT … FOR UPDATE of the rows the batch still holds, as the ORM
    writes it, compiled once per batch, with the ids' range (see _claim_statements). Called
    inside the record's transaction: the ORM refuses to compile FOR UPDATE outside one."""
    del vendor  # part of the key only: the SQL differs between databases
    ids_marker = one_parameter([MARKER_ID], "bigint")
    held = (
        Delivery.objects.select_for_update()
        .filter(
            message_id=message_id,
            id__in=ids_marker,
            id__gte=MARKER_FIRST,
            id__lte=MARKER_LAST,
            claim=token,
            status=DeliveryStatus.SENDING,
        )
        .order_by("id")
        .values_list("id", flat=True)
    )
    markers = {"ids": ids_marker.params[0], "first": MARKER_FIRST, "last": MARKER_LAST}
    return Compiled.of(*select_sql(held), markers)


def _submit_events(ids: list[int], now) -> None:
    """One `submit` event per delivery just written, made by the database from the rows
    themselves (`INSERT … SELECT`): the new status, the reason, the text and the provider's
    id, exactly what the outcome wrote there. Built in Python, a tuple, a JSON text and five
    parameters per delivery were a fifth of the worker's time."""
    if not ids:
        return
    ops = connection.ops
    events, deliveries = DeliveryEvent._meta, Delivery._meta
    names = ["delivery", "source", "from_status", "to_status", "provider_status"]
    names += ["description", "raw", "created_at"]
    column = {name: ops.quote_name(events.get_field(name).column) for name in names}
    of = {
        name: ops.quote_name(deliveries.get_field(name).column)
        for name in ("id", "status", "error_code", "error_text", "provider_message_id")
    }
    if connection.vendor == "postgresql":
        raw = f"jsonb_build_object('provider_message_id', {of['provider_message_id']})"
        empty = "'{}'::jsonb"
    else:
        raw = f"json_object('provider_message_id', {of['provider_message_id']})"
        empty = "'{}'"
    listed = one_parameter(ids, "bigint")
    created = events.get_field("created_at").get_db_prep_save(now, connection)
    # Only quoted model names go in the text; every value is a parameter.
    sql = (
        f"INSERT INTO {ops.quote_name(events.db_table)} ({', '.join(column.values())}) "  # noqa: S608
        f"SELECT {of['id']}, %s, %s, {of['status']}, {of['error_code']}, {of['error_text']}, "
        f"CASE WHEN {of['provider_message_id']} = '' THEN {empty} ELSE {raw} END, %s "
        f"FROM {ops.quote_name(deliveries.db_table)} WHERE {of['id']} IN ({listed.sql}) "
        f"ORDER BY {of['id']}"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                DeliveryEvent.Source.SUBMIT.value,
                DeliveryStatus.SENDING.value,
                created,
                *listed.params,
            ],
        )


def _keep_late_answers(late: list[Outcome]) -> None:
    """Answers that came after the sweeper gave their rows up: no status or count changes (the
    sweeper already counted them), but a provider id is kept so that its report can match."""
    log.warning("%d answers arrived after their deliveries were swept", len(late))
    for outcome in late:
        if not outcome.provider_message_id:
            continue
        updated = Delivery.objects.filter(
            pk=outcome.delivery_id, status=DeliveryStatus.UNKNOWN, provider_message_id=""
        ).update(provider_message_id=outcome.provider_message_id)
        if updated:
            DeliveryEvent.objects.create(
                delivery_id=outcome.delivery_id,
                source=DeliveryEvent.Source.SUBMIT,
                from_status=DeliveryStatus.UNKNOWN,
                to_status=DeliveryStatus.UNKNOWN,
                description="The provider answered after the worker was given up for lost "
                f"({outcome.status}); its id is kept so a delivery report can settle this.",
                raw={"provider_message_id": outcome.provider_message_id},
            )


OUTCOME_FIELDS = [
    "status",
    "provider_message_id",
    "error_code",
    "error_text",
    "confirmed",
    "segments",
    "submitted_at",
    "final_at",
    "cost",
]


def _write_outcomes(written: list[tuple]) -> None:
    """The outcomes in statements of many rows (each row has its own provider id and reason,
    which `bulk_update` would turn into a CASE per column, far slower). The WHERE repeats the
    claim: an outcome never lands on a row another worker or the sweeper holds."""
    if not written:
        return
    token = written[0][len(OUTCOME_FIELDS) + 1]  # one batch, one claim
    if connection.vendor == "sqlite":
        # As many rows as fit if every column varied (each row's values, then the id).
        room = max_parameters() - 2 - len(OUTCOME_FIELDS)  # the claim, the status, shared ones
        per_statement = max(1, min(1000, room // (len(OUTCOME_FIELDS) + 1)))
        for start in range(0, len(written), per_statement):
            chunk = written[start : start + per_statement]
            _update_from_values(*_outcome_columns(chunk), token)
        return
    _update_from_arrays(*_outcome_columns(written), token)


def _outcome_columns(rows: list[tuple]) -> tuple[list[tuple[int, object]], list[tuple[int, list]]]:
    """The outcome columns (numbers into OUTCOME_FIELDS) every row of `rows` shares, each with
    its value adapted for the database once; then the others, each with its values, and the
    delivery ids last. A provider that answers a request at once (KwtSMS) gives a batch's rows
    one status, reason, text, time and cost: only the provider's id and the delivery's id
    differ, so each row needs two values, not ten. (Each column holds one type, or None.)"""
    ops = connection.ops
    cost = Delivery._meta.get_field("cost")
    stamp = ops.adapt_datetimefield_value

    def money(value):
        return ops.adapt_decimalfield_value(value, cost.max_digits, cost.decimal_places)

    adapters = {6: stamp, 7: stamp, 8: money}  # submitted_at, final_at, cost
    shared: list[tuple[int, object]] = []
    varying: list[tuple[int, list]] = []
    for number in range(len(OUTCOME_FIELDS)):
        column = list(map(itemgetter(number), rows))
        first = column[0]
        adapt = adapters.get(number)
        if column.count(first) == len(column):
            shared.append((number, adapt(first) if adapt and first is not None else first))
        elif adapt is None:
            varying.append((number, column))
        else:
            # A batch's rows share a handful of times and costs: each is adapted once.
            adapted: dict = {None: None}
            for value in column:
                if value not in adapted:
                    adapted[value] = adapt(value)
            varying.append((number, [adapted[value] for value in column]))
    varying.append((len(OUTCOME_FIELDS), list(map(itemgetter(len(OUTCOME_FIELDS)), rows))))
    return shared, varying


# Each outcome column's PostgreSQL type, in OUTCOME_FIELDS order, then the id's.
_PG_TYPES = [
    "text",
    "text",
    "text",
    "text",
    "boolean",
    "smallint",
    "timestamptz",
    "timestamptz",
    "numeric",
    "bigint",
]


def _column(number: int) -> str:
    meta = Delivery._meta
    return connection.ops.quote_name(meta.get_field(OUTCOME_FIELDS[number]).column)


def _update_from_arrays(shared: list, varying: list, token: str) -> None:
    """PostgreSQL: the outcomes as one `UPDATE … FROM unnest(<an array per column>)`. Run once
    per row (`executemany`), each execution also ran the status-count statement trigger, with
    its transition tables, for its one row; now it runs once for the batch. A value every row
    shares is one parameter, not an array. Same WHERE (only rows still `sending` under this
    batch's claim)."""
    ops, meta = connection.ops, Delivery._meta
    table = ops.quote_name(meta.db_table)
    id_at = len(OUTCOME_FIELDS)
    assignments = [f"{_column(number)} = %s::{_PG_TYPES[number]}" for number, _ in shared]
    assignments += [f"{_column(number)} = v.c{number}" for number, _ in varying[:-1]]
    lease = ops.quote_name(meta.get_field("lease_until").column)
    arrays = ", ".join(f"%s::{_PG_TYPES[number]}[]" for number, _ in varying)
    names = ", ".join(f"c{number}" for number, _ in varying)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {', '.join(assignments)}, {lease} = NULL "  # noqa: S608
            f"FROM unnest({arrays}) AS v({names}) "
            f"WHERE {table}.id = v.c{id_at} AND {table}.claim = %s AND {table}.status = %s",
            [
                *(value for _, value in shared),
                *(values for _, values in varying),
                token,
                DeliveryStatus.SENDING.value,
            ],
        )


def _update_from_values(shared: list, varying: list, token: str) -> None:
    """SQLite: the outcomes as `UPDATE … FROM (VALUES …)`, up to 1,000 rows a statement. Run
    once per row (`executemany`), each execution also set up the status-count trigger's
    program: a third of the CPU for the same rows, the same trigger firing per row, the same
    WHERE (only rows still `sending` under this batch's claim). A value every row of the
    statement shares is one parameter, not one per row: SQLite binds, copies and reads ten
    values a row otherwise, where a KwtSMS batch varies in two."""
    ops, meta = connection.ops, Delivery._meta
    table = ops.quote_name(meta.db_table)
    assignments = [f"{_column(number)} = %s" for number, _ in shared]
    assignments += [
        f"{_column(number)} = v.column{position}"
        for position, (number, _) in enumerate(varying[:-1], start=1)
    ]
    lease = ops.quote_name(meta.get_field("lease_until").column)
    count = len(varying[-1][1])
    rows = ", ".join(["(" + ", ".join(["%s"] * len(varying)) + ")"] * count)
    values: list = [value for _, value in shared]
    for row in zip(*(column for _, column in varying), strict=True):
        values.extend(row)
    with connection.cursor() as cursor:
        # Placeholders are numbered as they appear: SET, then FROM, then WHERE.
        cursor.execute(
            f"UPDATE {table} SET {', '.join(assignments)}, {lease} = NULL "  # noqa: S608
            f"FROM (VALUES {rows}) AS v WHERE {table}.id = v.column{len(varying)} "
            "AND claim = %s AND status = %s",
            [*values, token, DeliveryStatus.SENDING.value],
        )


class Lease:
    """The batch's hold on the rows it claimed: renewed (its heartbeat) every third of its
    length while the worker lives, so the sweeper only takes the rows of a dead worker."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.length = lease_seconds()
        self.every = self.length / 3
        self.renewed = time.monotonic()

    def renew_if_due(self) -> None:
        if time.monotonic() - self.renewed < self.every:
            return
        Delivery.objects.filter(claim=self.token, status=DeliveryStatus.SENDING).update(
            lease_until=timezone.now() + timedelta(seconds=self.length)
        )
        self.renewed = time.monotonic()


def send_batch(message_id: int, first_id: int, last_id: int) -> int:
    """Claim, submit and record one batch; returns how many deliveries it settled.

    Rows are claimed a few requests at a time, just before their requests go, and each answer
    is written as it comes: a worker killed mid-batch leaves `sending` only the rows whose
    request was on the wire; the rest are still `queued` and are sent by the next worker."""
    message = Message.objects.select_related("account").get(pk=message_id)
    if message.status == Message.Status.CANCELLED:
        return 0
    if not password_readable(message.account):
        failed = fail_undecryptable(message_id, first_id, last_id)
        finish_if_settled(message_id)
        return failed
    settled = skip_opted_out(message_id, first_id, last_id)
    sent = False
    # Each account's queued rows through that account: a routed message's rows that failed
    # over are queued at the route's next account (failover.py).
    for through, ids, refusal in failover.rounds(message, first_id, last_id):
        if refusal:
            settled += fail_refused_through(through, ids, refusal)
            continue
        settled += _send_claimed(through, ids)
        sent = True
    if sent:
        # Numbers that opted out while this batch ran were left queued by `claim`: skip them.
        settled += _patiently(skip_opted_out, message_id, first_id, last_id)
    _patiently(finish_if_settled, message_id)
    return settled


DATABASE_PATIENCE = 120  # seconds a batch waits for its database to come back


def _patiently(step, *args):
    """Run a database step of a batch, waiting out a database that went away (a restart, a
    fail-over) instead of abandoning the batch: answers already received are still recorded,
    and the rows not yet claimed are still sent, not left for the stalled-batch sweep. Each
    step is one statement or one transaction, so a repeat after an error is safe."""
    delay = 0.5
    deadline = time.monotonic() + DATABASE_PATIENCE
    while True:
        try:
            return step(*args)
        except (OperationalError, InterfaceError) as exc:
            if time.monotonic() + delay > deadline:
                raise
            log.warning("database unavailable during a batch (%s); retrying", type(exc).__name__)
            connection.close()
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


def _send_claimed(message: Message, ids: list[int]) -> int:
    backend = message.account.backend
    outgoing = outgoing_for(message)
    bulk = bulk_size(backend, message)
    requests = [ids[i : i + bulk] for i in range(0, len(ids), bulk)]
    workers = max(1, min(len(requests), settings.SEND_CONCURRENCY))
    lease = Lease(uuid.uuid4().hex)
    waiting = iter(requests)
    in_flight: dict[Future, list[Delivery]] = {}
    # Answered requests, in the order they were answered: each thread hands its future over as
    # it finishes, so the loop takes every answer so far without polling each request.
    answers: queue.SimpleQueue[Future] = queue.SimpleQueue()
    prices = _patiently(PriceTable.of, message.account)  # read once for the batch's records
    settled = 0

    def fill(pool: ThreadPoolExecutor) -> None:
        # Claim the free slots' requests in one statement (half the slots at least, so a
        # one-recipient provider does not pay a claim per request).
        free = workers - len(in_flight)
        if free < max(1, workers // 2):
            return
        wanted = [chunk for _, chunk in zip(range(free), waiting, strict=False)]
        if not wanted:
            return
        rows = {
            row.id: row
            for row in _patiently(claim, message.pk, [i for c in wanted for i in c], lease.token)
        }
        for chunk in wanted:
            chunk_rows = [rows[i] for i in chunk if i in rows]
            for text_outgoing, group in by_text(outgoing, chunk_rows):
                future = pool.submit(submit, backend, text_outgoing, group)
                in_flight[future] = group
                future.add_done_callback(answers.put)

    # Answers are recorded once half the slots have answered (or every request left has): a
    # refill waits for that many free slots anyway, and a record written per answer would pay
    # the record's fixed statements for each. The rows held meanwhile are never more than the
    # requests in flight.
    enough = max(1, workers // 2)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        fill(pool)
        while in_flight:
            done = _answered(answers, min(enough, len(in_flight)), lease.every)
            answered = [(in_flight.pop(future), future.result()) for future in done]
            if answered:
                rows = [row for chunk_rows, _ in answered for row in chunk_rows]
                results = [outcomes for _, (outcomes, _balance) in answered]
                outcomes = [outcome for chunk in results for outcome in chunk]
                settled += _patiently(record, message, lease.token, rows, outcomes, prices)
                balances = [balance for _, (_o, balance) in answered if balance]
                _patiently(after_batch, message, results, balances)
            _patiently(lease.renew_if_due)
            fill(pool)
    return settled


def _answered(answers: queue.SimpleQueue, enough: int, timeout: float) -> list[Future]:
    """The requests answered so far, once `enough` have been, or whatever has after `timeout`
    seconds (the lease's heartbeat is due then, answered or not)."""
    done: list[Future] = []
    deadline = time.monotonic() + timeout
    while len(done) < enough:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            done.append(answers.get(timeout=left))
        except queue.Empty:
            break
    while True:
        try:
            done.append(answers.get_nowait())
        except queue.Empty:
            return done


def after_batch(message: Message, results: list[list[Outcome]], balances: list[Balance]) -> None:
    """What follows a recorded batch: the balance the provider reported after the send
    (KwtSMS), and reports that arrived before our ids were written."""
    if balances:
        BalanceSnapshot.objects.record(message.account, balances[-1], BalanceSource.SEND)
    note_attempts(message.account_id, results)
    failover.move_not_sent(message, results)

    ids = {o.provider_message_id for chunk in results for o in chunk if o.provider_message_id}
    ids.update(part_id for chunk in results for o in chunk for part_id in o.part_ids)
    if ids:
        apply_unmatched_reports(message.account, ids)


def note_attempts(account_id: int, results: list[list[Outcome]]) -> None:
    """Tell the account's circuit breaker (routing.breaker) how its requests went: one count
    per request (a batch of 200 refused at once is one failure, not 200)."""
    not_sent = sum(1 for chunk in results if chunk and all(o.not_taken for o in chunk))
    answered = sum(1 for chunk in results if chunk and not any(o.not_taken for o in chunk))
    breaker.note(account_id, not_sent=not_sent, answered=answered)


# --- the whole message -------------------------------------------------------------------------


def finish_if_settled(message_id: int) -> bool:
    """Mark the message done once no delivery is queued or sending (conditional, idempotent)."""
    unsettled = Delivery.objects.filter(
        message_id=message_id, status__in=[DeliveryStatus.QUEUED, DeliveryStatus.SENDING]
    ).exists()
    if unsettled:
        return False
    cost = Delivery.objects.filter(message_id=message_id).aggregate(total=Sum("cost"))["total"]
    finished = Message.objects.filter(pk=message_id, status=Message.Status.SENDING).update(
        status=Message.Status.DONE, completed_at=timezone.now(), actual_cost=cost
    )
    if finished:  # once: the conditional update succeeds for one caller only
        transaction.on_commit(
            lambda: message_done.send(sender=Message, message_id=message_id), robust=True
        )
    return bool(finished)


def start(message_id: int) -> list[tuple[int, int]]:
    """Move a message to `sending` and return its batches (id ranges) for the caller to enqueue.

    A message whose sender ID can no longer be sent from (retired since it was written) is not
    sent. A scheduled one is held, still scheduled, saying why, until someone changes its
    sender ID (`sending.reschedule` enqueues it again); a message sent now, whose sender was
    retired in the moment since compose checked it, is refused as compose would have: its
    deliveries fail, certainly unsent."""
    message = Message.objects.select_related("account").get(pk=message_id)
    waiting = message.status in (Message.Status.DRAFT, Message.Status.SCHEDULED)
    problem = _unusable_sender(message) if waiting else None
    if problem and message.status == Message.Status.SCHEDULED:
        Message.objects.filter(pk=message_id, status=Message.Status.SCHEDULED).update(
            held_reason=(
                f"Held: its sender ID {problem.value} is {problem.mark}. Change its sender ID "
                "to send it."
            )
        )
        return []
    started = Message.objects.filter(
        pk=message_id, status__in=[Message.Status.DRAFT, Message.Status.SCHEDULED]
    ).update(status=Message.Status.SENDING, dispatched_at=timezone.now())
    if not started and message.status != Message.Status.SENDING:
        return []  # cancelled, or already done
    size = task_size(message.account.backend, message)
    if started and problem:
        for first_id, last_id in batch_ranges(message, size):
            fail_unusable_sender(message_id, first_id, last_id, problem)
        finish_if_settled(message_id)
        return []
    ranges = list(batch_ranges(message, size))
    if not ranges:
        finish_if_settled(message_id)
    return ranges


def _mark(rows, *, token: str, status: DeliveryStatus, **fields) -> int:
    """Move `rows` (a queryset with the expected current status in its filter) to `status`,
    stamping `token`, so the caller can find exactly the rows it moved."""
    return rows.update(status=status, claim=token, **fields)


def _count_moves(token: str, old: str, new: str, reason: str = "") -> None:
    """Move the rows stamped with `token` from `old` to `new` in the daily summary."""
    moves = Transitions()
    groups = (
        Delivery.objects.filter(claim=token)
        .values("account_id", "message__department_id", day=TruncDate("queued_at"))
        .annotate(n=Count("id"), cost=Sum("cost"))
        .order_by()
    )
    for group in groups:
        cost = group["cost"] or Decimal("0")
        where = (group["day"], group["account_id"], group["message__department_id"])
        moves.add(*where, old, "", -group["n"], -cost)
        moves.add(*where, new, reason, group["n"], cost)
    moves.apply()


def _events_for(token: str, source: str, from_status: str, to_status: str, text: str) -> None:
    ids = Delivery.objects.filter(claim=token).values_list("id", flat=True)
    DeliveryEvent.objects.bulk_create(
        (
            DeliveryEvent(
                delivery_id=i,
                source=source,
                from_status=from_status,
                to_status=to_status,
                description=text,
            )
            for i in ids.iterator(chunk_size=5000)
        ),
        batch_size=1000,
    )


MAX_SENDS = 5  # a delivery re-sent this often after crashes is given up as unknown

LOST_REASON = (
    "The worker stopped while sending; the provider may or may not have received it, "
    "so it is not sent again."
)


def _expired(older_than: timedelta):
    """`sending` rows whose worker is gone: the lease ran out (not renewed by a heartbeat), or,
    for rows claimed before leases existed, the claim is older than `older_than`."""
    now = timezone.now()
    return Delivery.objects.filter(status=DeliveryStatus.SENDING).filter(
        Q(lease_until__lt=now) | Q(lease_until__isnull=True, sending_at__lt=now - older_than)
    )


def _repeatable_accounts(rows) -> list[int]:
    # No ordering: the model's (by id) made it DISTINCT (account, id), a row per delivery, read
    # in id order instead of through the sweeper's index.
    account_ids = set(rows.order_by().values_list("account_id", flat=True).distinct())
    return [
        account.pk
        for account in ProviderAccount.objects.filter(pk__in=account_ids)
        if account.backend_class.capabilities.idempotent_retry
    ]


def requeue_repeatable(older_than: timedelta) -> list[tuple[int, int, int]]:
    """A dead worker's rows at a provider that deduplicates (ISMS `seqno`) go back to `queued`
    and are sent again with the same reference: the provider answers "already received" if the
    first request reached it, so each is sent exactly once. Returns the batches to enqueue."""
    expired = _expired(older_than)
    accounts = _repeatable_accounts(expired)
    if not accounts:
        return []
    token = uuid.uuid4().hex
    text = (
        "The worker stopped while sending; sent again with the same reference, which the "
        "provider recognises if the first request reached it."
    )
    with transaction.atomic():
        rows = expired.filter(
            account_id__in=accounts,
            first_sent_at__gte=timezone.now() - REPEAT_WINDOW,
            attempts__lt=MAX_SENDS,
        )
        requeued = _mark(rows, token=token, status=DeliveryStatus.QUEUED, lease_until=None)
        if requeued:
            _events_for(
                token,
                DeliveryEvent.Source.SWEEPER,
                DeliveryStatus.SENDING,
                DeliveryStatus.QUEUED,
                text,
            )
    if not requeued:
        return []
    found = []
    messages = Message.objects.filter(
        pk__in=Delivery.objects.filter(claim=token).values("message_id")
    ).select_related("account")
    for message in messages:
        size = task_size(message.account.backend, message)
        found += [(message.pk, first, last) for first, last in batch_ranges(message, size)]
    return found


def sweep_stuck(older_than: timedelta) -> int:
    """Turn the `sending` deliveries of dead workers into `unknown` (see `_expired`). Only rows
    whose lease ran out are taken, in one conditional UPDATE: a live batch keeps its rows."""
    token = uuid.uuid4().hex
    with transaction.atomic():
        swept = _mark(
            _expired(older_than),
            token=token,
            status=DeliveryStatus.UNKNOWN,
            error_code="worker-lost",
            error_text=LOST_REASON,
            lease_until=None,
        )
        if swept:
            _count_moves(token, DeliveryStatus.SENDING, DeliveryStatus.UNKNOWN, "worker-lost")
            _events_for(
                token,
                DeliveryEvent.Source.SWEEPER,
                DeliveryStatus.SENDING,
                DeliveryStatus.UNKNOWN,
                LOST_REASON,
            )
    if swept:
        message_ids = Delivery.objects.filter(claim=token).values_list("message_id", flat=True)
        for message_id in set(message_ids):
            finish_if_settled(message_id)
    return swept


def stalled_batches(older_than: timedelta) -> list[tuple[int, int, int]]:
    """(message id, first id, last id) of queued deliveries of messages that have made no
    progress for `older_than`: their batch tasks were lost with a worker that died before
    claiming them. Enqueueing a batch twice is harmless: a claim takes only queued rows, once."""
    now = timezone.now()
    cutoff = now - older_than
    deliveries = Delivery.objects.filter(message=OuterRef("pk"))
    stalled = (
        Message.objects.filter(status=Message.Status.SENDING, dispatched_at__lt=cutoff)
        .filter(Exists(deliveries.filter(status=DeliveryStatus.QUEUED)))
        .exclude(Exists(deliveries.filter(sending_at__gte=cutoff)))
        .exclude(Exists(deliveries.filter(status=DeliveryStatus.SENDING, lease_until__gte=now)))
        .select_related("account")
    )
    found = []
    for message in stalled:
        size = task_size(message.account.backend, message)
        found += [(message.pk, first, last) for first, last in batch_ranges(message, size)]
    return found


def withdraw_queued(message: Message, text: str, now) -> int:
    """`Message.cancel`'s rows: the message's queued deliveries become `cancelled` (with their
    events and the day's counters); batches already claimed finish. Returns how many."""
    token = uuid.uuid4().hex
    with transaction.atomic():
        queued = Delivery.objects.filter(message=message, status=DeliveryStatus.QUEUED)
        cancelled = _mark(
            queued, token=token, status=DeliveryStatus.CANCELLED, final_at=now, error_text=text
        )
        if cancelled:
            _count_moves(token, DeliveryStatus.QUEUED, DeliveryStatus.CANCELLED)
            quota_step.give_back_marked(message.pk, token)
            _events_for(
                token,
                DeliveryEvent.Source.STAFF,
                DeliveryStatus.QUEUED,
                DeliveryStatus.CANCELLED,
                text,
            )
    return cancelled
