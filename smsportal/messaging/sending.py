"""The send service, the one way a message is created: `prepare(...)` runs every check once and
returns a Draft; `send(draft)` creates the message and its deliveries in one transaction (bulk
inserts) and enqueues the dispatch on commit. Retry, reschedule and the send to a list kept at
the provider live here too, so no other module creates `Message` or `Delivery` rows
(tests/messaging/test_one_send_path.py says so)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import islice
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext as _

from smsportal.contacts.remote import check_no_new_opt_outs, copy_sent_by, sendable_members
from smsportal.contacts.scope import not_for, not_for_error
from smsportal.contacts.selectors import opted_out
from smsportal.core import audit
from smsportal.core.text import credit_figure
from smsportal.credits.affordability import Unaffordable, check_affordable
from smsportal.departments.models import Department
from smsportal.providers.backends.base import (
    MessageType,
    OutgoingMessage,
    ProtocolError,
    ProviderError,
    Recipient,
    SubmitStatus,
    TransientError,
)
from smsportal.providers.backends.http import CONNECT_TIMEOUT, READ_TIMEOUT
from smsportal.providers.models import ProviderAccount
from smsportal.routing.prices import PriceTable, destination_cost
from smsportal.senders.selectors import unusable
from smsportal.sms.encoding import ALPHABET_LABELS, Analysis, analyse
from smsportal.sms.placeholders import parse
from smsportal.sms.status import DeliveryStatus

from . import flood, idempotency, quota_step
from .bulk_insert import insert_rows
from .daily_stats import Transitions, day_of
from .message_types import measure
from .models import Delivery, DeliveryEvent, Message, MessageUnknownCount
from .personal import personalise, values_for

log = logging.getLogger(__name__)

INSERT_CHUNK = 5000
# How long a deduplicating provider remembers a reference (ISMS `seqno`: 24 hours), less a
# margin: within it, a delivery of unknown fate may be repeated safely.
REPEAT_WINDOW = timedelta(hours=23)
OPTED_OUT_CODE = "opted-out"  # the same words dispatch writes when it skips a number
OPTED_OUT_TEXT = "opted out"
# The address of the one delivery of a send to a list kept at the provider: `list:<name>`,
# which no phone number can be.
LIST_ADDRESS = "list:"


class SendRefused(Exception):
    """The portal will not send this, and says why (nothing was created or sent): the message
    in words for people, `code` for machines (the API's problem codes, docs/api.md), and
    `values`, the names and figures the message was written with (plain values), for a record
    that writes it again later in its reader's language (recurring.reasons)."""

    def __init__(
        self, message: str, *, code: str = "send_refused", values: dict | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.values = values or {}


@dataclass
class ResolvedRecipients:
    """Recipients after resolution: who gets the message, and who is skipped and why."""

    phones: list[str] = field(default_factory=list)  # E.164, unique, in order
    contact_ids: dict[str, int] = field(default_factory=dict)  # phone -> contact, where known
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (number, reason)
    # phone -> (seqno, first sent): a retry's repeat of a delivery of unknown fate keeps the
    # reference a deduplicating provider (ISMS) remembers, so a repeat cannot reach them twice.
    references: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    # A mail merge (messaging/mail_merge.py): phone -> the placeholder values of its row, and the
    # placeholders the file can fill; a personalised text then takes its values from here, not
    # from contacts.
    values: Mapping[str, Mapping[str, str]] | None = None
    known_fields: frozenset[str] | None = None


def analyse_for(account: ProviderAccount, body: str) -> Analysis:
    """`body` counted as `account` will send it (its backend's encoding profile): the one count
    the preview, `Message.segments`, the estimate and the affordability check all use."""
    return analyse(body, account.backend.encoding_profile)


def estimate(account: ProviderAccount, recipients: int, segments: int) -> Decimal:
    """Credits for `recipients` × `segments`, where `segments` comes from `analyse_for`."""
    return account.price_per_segment * recipients * segments


@dataclass(frozen=True, kw_only=True)
class Draft:
    """A message that passed every check and is ready to send: what the confirm page shows and
    what `send` consumes. Only `prepare` makes one. `existing` is set when the form's
    idempotency key was already used by the same sender: `send` then returns that message and
    creates nothing."""

    account: ProviderAccount
    body: str
    sender: str = ""
    message_type: MessageType = MessageType.TEXT
    want_delivery_report: bool = True
    binary_udh: bool = True
    barcode_format: str = ""
    scheduled_for: datetime | None = None
    created_by: Any = None
    department: Department | None = None
    retry_of: Message | None = None
    idempotency_key: str | None = None
    encoding: str = ""
    segments: int = 0
    cost: Decimal = Decimal("0")
    phones: tuple[str, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()  # (number, reason): recorded, never sent
    references: Mapping[str, tuple[str, datetime]] = field(default_factory=dict)
    existing: Message | None = None
    # A personalised draft (`personal=True`): phone -> (that recipient's own text, its parts),
    # in the order the deliveries are stored; `segments` and `encoding` are then the longest's.
    texts: Mapping[str, tuple[str, int]] | None = None

    @property
    def recipient_count(self) -> int:
        return self.existing.recipient_count if self.existing else len(self.phones)

    @property
    def personal(self) -> bool:
        return self.texts is not None

    @property
    def total_parts(self) -> int:
        """SMS in all: what the cost is of."""
        if self.texts is not None:
            return sum(parts for _text, parts in self.texts.values())
        return self.segments * len(self.phones)


def prepare(
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
    user=None,
    department: Department | None = None,
    retry_of: Message | None = None,
    idempotency_key: str | None = None,
    personal: bool = False,
    confirms_opt_out: bool = False,
) -> Draft:
    """Run every check a send must pass, once, and return the Draft `send` consumes.

    This is the one way into sending: compose, retry, the API, templates, auto-replies and
    recurring sends all call ::

        draft = sending.prepare(account=account, body=text, recipients=resolved, user=user, ...)
        message = sending.send(draft)

    `recipients` is a ResolvedRecipients (E.164 phones; `messaging.recipients.resolve` builds
    one from pasted numbers and lists). The checks, in order: an `idempotency_key` already used
    by the same sender (duplicate submit: the Draft carries that message and nothing else is
    checked; another sender's key is refused, `sent_with`); the text can
    be sent (encoding, binary octets) in at most `account.max_parts` parts; the account is
    active; the sender ID is one of its usable ones (`check_sender`); numbers that opted out are
    moved to the skipped (if none is left, refused); the backend's own pre-send check and the
    provider's flood rules; the balance covers the cost (`user` may be allowed to send past it).
    Raises SendRefused, saying why, when one fails; nothing is created or sent then.

    `personal`: `body` has placeholders ({first_name|Customer}); each recipient's own text is
    rendered and counted here (`personal.personalise`: an unknown field, a value missing without
    a fallback, a text too long are refused, saying for how many), the checks on one text take
    the longest, and the cost is the exact total of every recipient's parts.

    `confirms_opt_out` (only `replies.confirm_opt_out`) keeps an opted-out number: the
    confirmation of its STOP.

    `department`: whose message it is (`check_department`): staff send only as one of their
    departments; only an automatic send (no `user`) may have none.
    """
    if idempotency_key:
        existing = sent_with(idempotency_key, user=user, department=department)
        if existing:
            return Draft(
                account=existing.account,
                body=existing.body,
                segments=existing.segments,
                cost=existing.estimated_cost,
                scheduled_for=existing.scheduled_for,
                idempotency_key=idempotency_key,
                existing=existing,
            )
    check_department(department, user)
    profile = account.backend.encoding_profile
    if not personal:
        check_text(account, measure(body, message_type, binary_udh, profile))
    if not recipients.phones:
        raise SendRefused(_("There is no recipient to send to."), code="no_recipients")
    if not account.is_active:
        raise SendRefused(
            _("%(account)s is not active.") % {"account": account},
            code="account_inactive",
            values={"account": str(account)},
        )
    check_sender(account, sender)
    # The confirmation of a STOP (`replies.confirm_opt_out`) is the one message an opted-out
    # number may get; dispatch still lets it through only for the opt-out that names it.
    blocked = set() if confirms_opt_out else opted_out(recipients.phones)
    phones = [phone for phone in recipients.phones if phone not in blocked]
    if not phones:
        raise SendRefused(
            _("Every recipient has opted out; nothing was sent."), code="no_recipients"
        )
    own = None
    if personal:
        own = personalise(
            body,
            phones,
            recipients.contact_ids,
            profile,
            account.max_parts,
            values=recipients.values,
            known=recipients.known_fields,
            department=department,
        )
        phones = list(own.texts)  # sorted by text: identical ones go in one request
    one_text = own.longest if own else body
    analysis = measure(one_text, message_type, binary_udh, profile)
    check_text(account, analysis)
    outgoing = OutgoingMessage(
        text=one_text,
        sender=sender,
        max_parts=account.max_parts,
        type=message_type,
        want_delivery_report=want_delivery_report,
        udh=binary_udh,
        barcode_format=barcode_format,
    )
    try:
        account.backend.check_before_send(outgoing, _Recipients(phones))
        flood.check(account, body, phones)
    except ProviderError as exc:
        raise SendRefused(str(exc)) from exc
    cost = cost_of(account, phones, analysis.segments, own)
    try:
        check_affordable(account, cost, user or AnonymousUser())
    except Unaffordable as exc:
        raise SendRefused(exc.message, code=exc.code, values=exc.values) from exc
    parts = own.total_parts if own else len(phones) * analysis.segments
    quota_step.check(department, account, parts, cost)
    return Draft(
        account=account,
        body=body,
        sender=sender,
        message_type=message_type,
        want_delivery_report=want_delivery_report,
        binary_udh=binary_udh,
        barcode_format=barcode_format,
        scheduled_for=scheduled_for,
        created_by=user,
        department=department,
        retry_of=retry_of,
        idempotency_key=idempotency_key,
        encoding=analysis.encoding,
        segments=analysis.segments,
        cost=cost,
        phones=tuple(phones),
        skipped=(
            *recipients.skipped,
            *((phone, OPTED_OUT_TEXT) for phone in recipients.phones if phone in blocked),
        ),
        references={p: ref for p, ref in recipients.references.items() if p not in blocked},
        texts=own.texts if own else None,
    )


class _Recipients(Sequence[Recipient]):
    """`phones` as the Recipients a backend's pre-send check reads, each made only when read:
    most checks look at the text alone, and 100,000 objects made for nothing cost ~0.1 s."""

    def __init__(self, phones: list[str]) -> None:
        self.phones = phones

    def __len__(self) -> int:
        return len(self.phones)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [Recipient(phone) for phone in self.phones[index]]
        return Recipient(self.phones[index])


def no_department_text() -> str:
    return gettext("You are in no department, so you cannot send: ask a Manager to add you to one.")


def check_department(department: Department | None, user) -> None:
    """A person sends only as a department they belong to (a superuser: any); a user in no
    department can send nothing. A send without a person (an automatic reply to a number no
    department wrote to) may belong to none."""
    staff = user is not None and getattr(user, "is_authenticated", False)
    if department is None:
        if not staff:
            return
        if not Department.objects.of(user).exists():
            raise SendRefused(no_department_text(), code="no_department", values={"in_none": True})
        raise SendRefused(
            gettext("Choose the department this message is sent for."), code="no_department"
        )
    if staff and not Department.objects.of(user).filter(pk=department.pk).exists():
        raise SendRefused(
            gettext("You are not in the department %(department)s, so you cannot send for it.")
            % {"department": department},
            code="not_in_department",
            values={"department": str(department)},
        )


def check_sender(account: ProviderAccount, sender: str) -> None:
    """`sender` is one of `account`'s usable sender IDs (or empty: the provider's default).
    Forms offer only those, but a sender retired since (a retry of an old message, a recurring
    send, a reschedule) would still be taken by the provider, so the send path checks it."""
    if problem := unusable(account, sender):
        raise SendRefused(
            problem.warning,
            code="sender_unusable",
            values={"sender": sender, "account": str(account), "kind": problem.kind},
        )


def cost_of(account: ProviderAccount, phones: list[str], segments: int, own=None) -> Decimal:
    """What the send costs, each recipient at its destination's price (routing.prices): the
    same parts for all, or each recipient's own (`own`, a personalised text)."""
    if own is None:
        return destination_cost(account, phones, segments)
    return destination_cost(account, phones, {p: parts for p, (_t, parts) in own.texts.items()})


def check_text(account: ProviderAccount, analysis) -> None:
    """The text can be sent, in no more parts than `account` allows (also for a reschedule)."""
    if not analysis.sendable:
        raise SendRefused(analysis.problem)
    if analysis.segments > account.max_parts:
        raise SendRefused(
            _("The text needs %(parts)s parts; %(account)s allows at most %(most)s per message.")
            % {"parts": analysis.segments, "account": account, "most": account.max_parts},
            code="too_many_parts",
            values={
                "parts": analysis.segments,
                "account": str(account),
                "most": account.max_parts,
            },
        )


def send(draft: Draft, *, also: Callable[[Message], None] | None = None) -> Message:
    """Create the message of a `prepare`d draft with every delivery (one transaction, bulk
    inserts) and enqueue its dispatch, for `draft.scheduled_for` or now. A draft whose
    idempotency key was used meanwhile (a second submit won the race) returns that message,
    if it is the same sender's (`sent_with`).

    `also(message)`, if given, runs in the same transaction once the message and its
    deliveries exist: what the caller records about the send (the API: the key that sent it
    and the answer to replay) commits or rolls back with it."""
    if draft.existing:
        return draft.existing
    message = Message(
        account=draft.account,
        sender=draft.sender,
        body=draft.body,
        personal=draft.personal,
        encoding=draft.encoding,
        segments=draft.segments,
        message_type=draft.message_type,
        want_delivery_report=draft.want_delivery_report,
        binary_udh=draft.binary_udh,
        barcode_format=draft.barcode_format,
        status=Message.Status.SCHEDULED if draft.scheduled_for else Message.Status.DRAFT,
        scheduled_for=draft.scheduled_for,
        recipient_count=len(draft.phones),
        estimated_cost=draft.cost,
        created_by=draft.created_by,
        department=draft.department,
        retry_of=draft.retry_of,
        idempotency_key=draft.idempotency_key,
    )
    try:
        with transaction.atomic():
            message.save()
            quota_step.take(message, draft.department, draft.total_parts, draft.cost)
            counters = _insert_deliveries(message, draft)
            audit.record(audit.send_event(message), message, recipients=message.recipient_count)
            if also is not None:
                also(message)
            _raise_counters(counters)
            transaction.on_commit(message.send)
    except IntegrityError:
        if not draft.idempotency_key:
            raise
        # A second submit committed the key meanwhile: its message, if it is this sender's.
        existing = sent_with(
            draft.idempotency_key, user=draft.created_by, department=draft.department
        )
        if existing is None:
            raise
        return existing
    return message


def sent_with(key: str, *, user, department: Department | None) -> Message | None:
    """The message already sent with idempotency `key` by this sender (the same person, or
    none, as the same department), which a repeat of the send answers with; None if the key is
    unused. A key another sender used is refused: its message is theirs, and what the refusal
    says tells nothing of it (messaging/idempotency.py says how form keys are kept apart)."""
    existing = Message.objects.filter(idempotency_key=key).first()
    if existing is None or _same_sender(existing, key, user, department):
        return existing
    raise SendRefused(
        _(
            "This send's one-time key was already used for another message, so nothing was "
            "sent. Open the page again to send a new message."
        ),
        code="idempotency_key_taken",
    )


def _same_sender(message: Message, key: str, user, department: Department | None) -> bool:
    user_id = getattr(user, "pk", None)  # None for an automatic send (or AnonymousUser)
    if message.created_by_id != user_id or message.department_id != getattr(department, "pk", None):
        return False
    # A send without a person repeats only the portal's own (system) keys, never a form's.
    return user_id is not None or not idempotency.is_form_key(key)


def _raise_counters(counters: Transitions) -> None:
    """The day's counters of the new deliveries, as the transaction's last write: every send
    on an account that day raises the same row, whose lock is held until COMMIT, so concurrent
    sends queue behind each other only for this statement and the commit."""
    counters.apply()


def _insert_deliveries(message: Message, draft: Draft) -> Transitions:
    """Insert the draft's deliveries; returns their counter moves, for `_raise_counters`."""

    def chunks(rows: Iterable[Delivery]):
        iterator = iter(rows)
        while chunk := list(islice(iterator, INSERT_CHUNK)):
            yield chunk

    segments = draft.segments
    now = timezone.now()
    moves = Transitions()
    # Multi-row INSERTs (bulk_insert.py): the same rows as bulk_create, at several times its speed.
    inserted = _insert_queued(message, draft, now)
    where = (day_of(now), message.account_id, message.department_id)
    moves.add(*where, DeliveryStatus.QUEUED, count=inserted)

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
        for number, reason in draft.skipped
    )
    for chunk in chunks(skipped):
        created = Delivery.objects.bulk_create(chunk)
        moves.add(*where, DeliveryStatus.SKIPPED, count=len(chunk))
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
    return moves


def _insert_queued(message: Message, draft: Draft, now) -> int:
    """The queued deliveries of `draft`. Only the columns that differ between its rows are
    sent per row: one text for all (the usual case) and no references (anything but a retry)
    become constants, adapted once, instead of three values per recipient."""
    references, segments, texts = draft.references, draft.segments, draft.texts
    columns, constants = ["phone"], {"message_id": message.pk, "account_id": message.account_id}
    if texts:
        columns += ["text", "segments"]  # each recipient's own text and its own count
    else:
        constants.update(text="", segments=segments)
    if references:
        columns += ["seqno", "first_sent_at"]
    else:
        constants.update(seqno="", first_sent_at=None)

    def row(phone: str) -> tuple:
        own = texts[phone] if texts else ()
        return (phone, *own, *references.get(phone, ("", None))) if references else (phone, *own)

    rows = ((phone,) for phone in draft.phones) if len(columns) == 1 else map(row, draft.phones)
    return insert_rows(Delivery, columns, rows, queued_at=now, **constants)


@dataclass(frozen=True)
class TextChange:
    """A scheduled message's text, changed: the alphabet, the parts of each recipient's message
    and the estimated cost of the whole send, before and after."""

    encoding_before: str
    segments_before: int
    cost_before: Decimal
    encoding: str
    segments: int
    cost: Decimal

    @property
    def costs_more(self) -> bool:
        return self.segments > self.segments_before or self.cost > self.cost_before

    @property
    def token(self) -> str:
        """What the confirmation of this change posts back: it accepts these figures, and a
        text changed again since (dearer still) is asked about again."""
        return f"{self.encoding}:{self.segments}:{self.cost}"

    @property
    def described(self) -> str:
        """ "each message 4 SMS instead of 1 (Unicode instead of Standard): estimated cost 4
        instead of 1 credits", the alphabet said only when it changes."""
        said = _("each message %(segments)s SMS instead of %(before)s") % {
            "segments": f"{self.segments:,}",
            "before": f"{self.segments_before:,}",
        }
        if self.encoding != self.encoding_before:
            said += " " + _("(%(alphabet)s instead of %(before)s)") % {
                "alphabet": ALPHABET_LABELS.get(self.encoding, self.encoding),
                "before": ALPHABET_LABELS.get(self.encoding_before, self.encoding_before),
            }
        whole = self.cost == self.cost.to_integral_value()
        return said + ngettext(
            ": estimated cost %(cost)s instead of %(before)s credit",
            ": estimated cost %(cost)s instead of %(before)s credits",
            int(self.cost) if whole else 100,  # as the `plural_count` filter: 2.5 credits
        ) % {"cost": credit_figure(self.cost), "before": credit_figure(self.cost_before)}

    @property
    def warning(self) -> str:
        return _("This change makes %(change)s.") % {"change": self.described}

    @property
    def question(self) -> str:
        return _("This change makes %(change)s. Save anyway?") % {"change": self.described}


class CostRises(SendRefused):
    """A scheduled message's new text makes it cost more (more parts, a dearer alphabet): staff
    must accept that explicitly (`accept`, the change's token), as Compose confirms a send."""

    def __init__(self, change: TextChange):
        super().__init__(
            _("This change makes %(change)s: confirm it to save.") % {"change": change.described},
            code="costs_more",
        )
        self.change = change


def part_cost(message: Message) -> Decimal:
    """What one part to each of the message's recipients costs, each at its destination's price
    (the send's cost is this times its parts)."""
    phones = (
        message.deliveries.exclude(status=DeliveryStatus.SKIPPED)
        .values_list("phone", flat=True)
        .iterator(chunk_size=10_000)
    )
    return destination_cost(message.account, phones, 1)


def text_change(message: Message, analysis, per_part: Decimal | None = None) -> TextChange:
    """What the new text (`analysis`, as `measure` counted it) changes in what `message` costs.
    `per_part`: `part_cost(message)`, when the caller has it already."""
    per_part = part_cost(message) if per_part is None else per_part
    return TextChange(
        encoding_before=message.encoding,
        segments_before=message.segments,
        cost_before=message.estimated_cost,
        encoding=analysis.encoding,
        segments=analysis.segments,
        cost=per_part * analysis.segments,
    )


def reschedule(
    message: Message,
    *,
    body: str | None = None,
    scheduled_for: datetime,
    sender: str | None = None,
    accept: str = "",
    user=None,
) -> None:
    """Change a scheduled message's time (and text, and sender ID: one of the account's usable
    ones, `check_sender`); the task for the old time becomes stale.

    A text that makes the message cost more is refused (CostRises, with the figures) unless
    `accept` is that change's token: the person saw and confirmed it. The balance must then
    cover the new cost, as at compose (`user` may be allowed past it), and the quota the new
    parts (`quota_step.recount`).

    A personalised message's new text is made again for each recipient and stored on its
    delivery with its own parts (`_personal_change`): the deliveries carry what is sent."""
    # A hold's reason (a flood rule's, a retired sender's) is asked again at the new time.
    fields = {"scheduled_for": scheduled_for, "held_reason": ""}
    if sender is not None:
        check_sender(message.account, sender)
        fields["sender"] = sender
    own = None
    if body is not None:
        if message.personal:
            own, change = _personal_change(message, body)
        else:
            analysis = measure(
                body,
                message.message_type,
                message.binary_udh,
                message.account.backend.encoding_profile,
            )
            check_text(message.account, analysis)
            change = text_change(message, analysis)
        if change.costs_more:
            if accept != change.token:
                raise CostRises(change)
            try:
                check_affordable(message.account, change.cost, user or AnonymousUser())
            except Unaffordable as exc:
                raise SendRefused(exc.message, code=exc.code, values=exc.values) from exc
        fields.update(
            body=body,
            encoding=change.encoding,
            segments=change.segments,
            estimated_cost=change.cost,
        )
    with transaction.atomic():
        updated = Message.objects.filter(pk=message.pk, status=Message.Status.SCHEDULED).update(
            **fields
        )
        if not updated:
            raise SendRefused(_("Only a message that is still scheduled can be changed."))
        if own is not None:
            _store_texts(own)
            quota_step.recount(message, own.total_parts, fields["estimated_cost"])
        elif body is not None:
            Delivery.objects.filter(message=message, status=DeliveryStatus.QUEUED).update(
                segments=fields["segments"]
            )
            quota_step.recount(
                message, message.recipient_count * fields["segments"], fields["estimated_cost"]
            )
        message.refresh_from_db()
        transaction.on_commit(message.send)


@dataclass(frozen=True)
class Rerendered:
    """A personalised message's texts made again from a new template: each queued delivery's
    id, own text and parts (`personal.Personalised.texts`, keyed by delivery), and their sum."""

    rows: list[tuple[int, str, int]]
    total_parts: int


def _personal_change(message: Message, body: str) -> tuple[Rerendered, TextChange]:
    """Each recipient's own text made again from the new template `body`, from the values the
    send made the old texts from, checked as a new send checks them (`personal.personalise`:
    fields known and filled, every text sendable in the account's parts), and what the change
    does to the cost: each recipient's parts at its destination's price.

    The values are each number's contact's, as the send read them. A text that the old
    template no longer makes from them (a mail merge's file columns, which are not kept; a
    contact changed since) cannot be made again: the change is refused, saying so, rather
    than sending texts made from other values than the ones staff chose."""
    account = message.account
    profile = account.backend.encoding_profile
    queued = message.deliveries.filter(status=DeliveryStatus.QUEUED).order_by("id")
    stored = {phone: (pk, text) for pk, phone, text in queued.values_list("id", "phone", "text")}
    phones = list(stored)
    department_id = message.department_id
    old = parse(message.body)
    strayed = 0
    for start in range(0, len(phones), 5_000):
        chunk = phones[start : start + 5_000]
        values = values_for(chunk, {}, department_id=department_id)
        strayed += sum(1 for phone in chunk if old.render(values[phone]).text != stored[phone][1])
    if strayed:
        raise SendRefused(
            ngettext(
                "The text of %(count)s recipient was made from values the portal no longer has "
                "(a file's columns, or contact details changed since), so it cannot be made "
                "again from a new text. Cancel this message and send it again instead.",
                "The texts of %(count)s recipients were made from values the portal no longer "
                "has (a file's columns, or contact details changed since), so they cannot be "
                "made again from a new text. Cancel this message and send it again instead.",
                strayed,
            )
            % {"count": f"{strayed:,}"},
            code="values_gone",
            values={"count": strayed},
        )
    own = personalise(body, phones, {}, profile, account.max_parts, department=message.department)
    check_text(account, measure(own.longest, message.message_type, message.binary_udh, profile))
    change = TextChange(
        encoding_before=message.encoding,
        segments_before=message.segments,
        cost_before=message.estimated_cost,
        encoding=own.encoding,
        segments=own.segments,
        cost=cost_of(account, list(own.texts), own.segments, own),
    )
    rows = [(stored[phone][0], text, parts) for phone, (text, parts) in own.texts.items()]
    return Rerendered(rows, own.total_parts), change


def _store_texts(own: Rerendered) -> None:
    """Each queued delivery's new text and its own parts, a thousand rows a statement."""
    Delivery.objects.bulk_update(
        (Delivery(pk=pk, text=text, segments=parts) for pk, text, parts in own.rows),
        ["text", "segments"],
        batch_size=1000,
    )


class DuplicatesPossible(SendRefused):
    """Retrying would resend to numbers that may already have the message; staff must accept
    that explicitly (`accept_duplicates`). `at_risk` counts them, for the advice that follows
    the warning to agree with it in number (Arabic says "him", "the two of them", "them")."""

    def __init__(self, message: str, *, at_risk: int) -> None:
        super().__init__(message)
        self.at_risk = at_risk


@dataclass(frozen=True)
class RetryPlan:
    """What a retry of `statuses` would do, for the page to warn before staff press it."""

    phones: list[str]
    references: dict[str, tuple[str, datetime]]
    at_risk: int  # unknown deliveries that may reach their number twice
    provider: str
    deliveries: list[int] = field(default_factory=list)  # the ones it retries, by id

    @property
    def warning(self) -> str:
        return duplicates_warning(self.at_risk, self.provider)


def duplicates_warning(at_risk: int, provider: str) -> str:
    if not at_risk:
        return ""
    return ngettext(
        "%(count)s recipient whose outcome is unknown may get the message twice: the first "
        "attempt may have reached them, and %(provider)s cannot tell a repeat from a new message.",
        "%(count)s recipients whose outcome is unknown may get the message twice: the first "
        "attempt may have reached them, and %(provider)s cannot tell a repeat from a new message.",
        at_risk,
    ) % {"count": f"{at_risk:,}", "provider": provider}


def retry_warning(message: Message, unknown: int) -> str:
    """The warning for retrying `message`'s `unknown` deliveries (its status count), cheaply:
    the message page shows it on every poll. No query where the provider cannot deduplicate;
    where it can, one over the message's unknown counts by first send (MessageUnknownCount,
    a row per claimed batch), never over its deliveries. The same count as `retry_plan`'s."""
    if not unknown:
        return ""
    at_risk = unknown
    if message.account.backend_class.capabilities.idempotent_retry:
        remembered = MessageUnknownCount.objects.filter(
            message_id=message.pk, first_sent_at__gte=timezone.now() - REPEAT_WINDOW
        ).aggregate(n=Sum("count"))["n"]
        at_risk = unknown - (remembered or 0)
    return duplicates_warning(at_risk, message.account.get_kind_display())


RETRYABLE = (DeliveryStatus.FAILED, DeliveryStatus.UNKNOWN)


def no_retry_to_a_list() -> str:
    """Why a send to a list kept at the provider is not retried: a retry sends to numbers, and
    the portal does not know the list's."""
    return _(
        "This message went to a list kept at the provider, which a retry cannot send to: send "
        "it again from the list's page. If its outcome is unknown, ask the provider first "
        "whether it went: everyone on the list may get it twice."
    )


def went_to_a_list(message: Message, counts) -> bool:
    """Whether `message`, as its status `counts` say, is a send to a list kept at the provider
    that a retry would be offered for: asked (one query) only of a message of one delivery
    that failed or whose outcome is unknown."""
    retryable = any(counts.get(status) for status in RETRYABLE)
    if not retryable or counts.total != 1:
        return False
    return message.deliveries.filter(phone__startswith=LIST_ADDRESS).exists()


def retry_plan(message: Message, statuses: Iterable[str]) -> RetryPlan:
    wanted = [s for s in statuses if s in RETRYABLE]
    if not wanted:
        raise SendRefused(_("Only failed or unknown deliveries can be retried."))
    rows = (
        message.deliveries.filter(status__in=wanted, retried_in__isnull=True)
        .order_by("id")
        .values_list("id", "phone", "status", "seqno", "first_sent_at")
    )
    repeat_safe = message.account.backend_class.capabilities.idempotent_retry
    window_start = timezone.now() - REPEAT_WINDOW
    phones: dict[str, None] = {}
    references: dict[str, tuple[str, datetime]] = {}
    at_risk = 0
    deliveries = []
    for pk, phone, status, seqno, first_sent_at in rows.iterator(chunk_size=5000):
        deliveries.append(pk)
        if phone.startswith(LIST_ADDRESS):
            raise SendRefused(no_retry_to_a_list(), code="remote_list_retry")
        phones[phone] = None
        if status != DeliveryStatus.UNKNOWN:
            continue  # refused by the provider: certainly not sent
        if repeat_safe and first_sent_at and first_sent_at >= window_start:
            references[phone] = (seqno or str(pk), first_sent_at)
        else:
            at_risk += 1
    return RetryPlan(
        list(phones), references, at_risk, message.account.get_kind_display(), deliveries
    )


class AlreadyRetried(SendRefused):
    """Every delivery asked for was retried already (a second press of Retry, a double
    click): nothing is sent again; `retry` is the message that retried them, last."""

    def __init__(self, message: str, *, retry: Message) -> None:
        super().__init__(message, code="already_retried", values={"number": retry.pk})
        self.retry = retry


def left_to_retry(message: Message, counts) -> dict[str, int]:
    """The failed and unknown deliveries of `message` that no retry has taken yet, by status,
    from its status counts (a `progress.Progress`): what the Retry form offers. One query
    over the retried rows alone (their partial index), and none for a message never retried
    or with nothing to retry."""
    left = {str(status): counts.get(status) or 0 for status in RETRYABLE}
    if message.has_retries and any(left.values()):
        retried = (
            Delivery.objects.filter(message=message, retried_in__isnull=False, status__in=RETRYABLE)
            .values_list("status")
            .annotate(n=Count("id"))
            .order_by()
        )
        for status, n in retried:
            left[status] = max(0, left[status] - n)
    return left


def retry(
    message: Message,
    statuses: Iterable[str],
    user=None,
    *,
    accept_duplicates: bool = False,
    sender: str | None = None,
) -> Message:
    """A new message to the deliveries of `message` that ended in `statuses` (staff's choice).

    Numbers opted out since are skipped; the balance is checked as at compose. An unknown
    delivery at a provider that deduplicates is repeated with its original reference (sent
    once, whatever happened); elsewhere a repeat may arrive twice, so it needs
    `accept_duplicates`. It goes from `message`'s sender ID unless `sender` names another:
    the choice offered when that one was retired since (`prepare` refuses a retired one).

    A delivery is retried once: the retry records itself on each one it takes
    (`Delivery.retried_in`), which keep their status, and a later retry takes only those no
    message took; none left, it is refused (AlreadyRetried). Two retries at once queue on the
    message's row, and the conditional update of the deliveries lets one only take them."""
    with transaction.atomic():
        # The second of two retries at once (a double click) waits here for the first to
        # commit, then finds its deliveries taken. SQLite takes its write lock at BEGIN.
        Message.objects.select_for_update().filter(pk=message.pk).exists()
        plan = retry_plan(message, statuses)
        if not plan.phones:
            raise _nothing_to_retry(message, statuses)
        if plan.at_risk and not accept_duplicates:
            # The warning alone: what to press to accept depends on where the retry was asked
            # (the message page names its own box and button).
            raise DuplicatesPossible(plan.warning, at_risk=plan.at_risk)
        again = send(_retry_draft(message, plan, user, sender))
        _take_for(again, message, plan.deliveries)
        Message.objects.filter(pk=message.pk).update(has_retries=True)
        message.has_retries = True
        return again


def _nothing_to_retry(
    message: Message, statuses: Iterable[str], undone: Message | None = None
) -> SendRefused:
    """Why a retry found nothing: its deliveries were all retried already (and where), or
    none is in the states asked for. `undone`: the retry being rolled back, not to be named."""
    last = (
        message.deliveries.filter(status__in=statuses, retried_in__isnull=False)
        .exclude(retried_in=undone)
        .order_by("-retried_in")
        .values_list("retried_in", flat=True)
        .first()
    )
    if last is None:
        return SendRefused(_("No delivery of this message is in that state."))
    retry = Message.objects.get(pk=last)
    return AlreadyRetried(
        _("These deliveries were already retried, in message #%(number)s: nothing was sent again.")
        % {"number": retry.pk},
        retry=retry,
    )


def _take_for(again: Message, message: Message, deliveries: list[int]) -> None:
    """Record on each delivery the retry `again` sends it in, only where no other retry did
    meanwhile: if one did, the whole retry is undone (its message and its dispatch, which
    waits for the commit), and refused as already retried."""
    taken = 0
    for start in range(0, len(deliveries), INSERT_CHUNK):
        chunk = deliveries[start : start + INSERT_CHUNK]
        taken += Delivery.objects.filter(pk__in=chunk, retried_in__isnull=True).update(
            retried_in=again
        )
    if taken != len(deliveries):
        raise _nothing_to_retry(message, RETRYABLE, undone=again)


def _retry_draft(message: Message, plan: RetryPlan, user, sender: str | None) -> Draft:
    return prepare(
        account=message.account,
        body=message.body,
        sender=message.sender if sender is None else sender,
        recipients=ResolvedRecipients(phones=plan.phones, references=plan.references),
        message_type=MessageType(message.message_type),
        want_delivery_report=message.want_delivery_report,
        binary_udh=message.binary_udh,
        barcode_format=message.barcode_format,
        user=user,
        department=message.department,
        retry_of=message,
        personal=message.personal,
    )


def _copy_sent_to(account: ProviderAccount, name: str, user, department: Department | None):
    """The push that made the list `name` at `account`, if `user` may send to it for
    `department` (None: one the portal did not make, which the opt-out check refuses)."""
    try:
        push = copy_sent_by(user, account, name)
    except LookupError as exc:
        raise SendRefused(str(exc)) from exc
    if push is not None and not_for(department, [push.contact_list]):
        raise SendRefused(not_for_error(department, push.contact_list))
    return push


def send_to_remote_list(
    account: ProviderAccount,
    name: str,
    text: str,
    user=None,
    department: Department | None = None,
    *,
    idempotency_key: str | None = None,
) -> tuple[Message, bool]:
    """(message, created): send `text` to a list kept at the provider (KalaSMS `sendbulk`): one
    request, one message id for the whole list. Recorded as a message with a single delivery
    addressed to the list, so its report is polled and shown like any other.

    The checks of `prepare` that apply to a list the portal cannot see into: the text and its
    parts (counted in the account's encoding, `analyse_for`), the account active, the copy one
    of a list the person may send to for `department` (their departments', a shared one:
    `contacts.remote.copy_sent_by`, `scope.not_for`), that list's copy still clear of opt-outs
    (RemoteListStale, a ProviderError, otherwise), and the balance and quotas for its members,
    each at its destination's price (`_copy_cost`).

    The message is recorded before the request leaves, `sending`, with its parts taken from
    the quotas, then settled by the answer (`_settle_remote`): a request whose answer never
    came is on record, `unknown`, rather than nowhere, where staff would send it again. A
    repeat of the same form (`idempotency_key`, the same sender's: `sent_with`) sends nothing
    and answers with the message the first made (created is False)."""
    if idempotency_key:
        existing = sent_with(idempotency_key, user=user, department=department)
        if existing:
            return existing, False
    check_department(department, user)
    analysis = analyse_for(account, text)
    check_text(account, analysis)
    if not account.is_active:
        raise SendRefused(
            _("%(account)s is not active.") % {"account": account},
            code="account_inactive",
            values={"account": str(account)},
        )
    push = check_no_new_opt_outs(account, name, _copy_sent_to(account, name, user, department))
    cost = _copy_cost(account, push, analysis.segments)
    try:
        check_affordable(account, cost, user or AnonymousUser())
    except Unaffordable as exc:
        raise SendRefused(exc.message, code=exc.code, values=exc.values) from exc
    parts = push.pushed * analysis.segments
    quota_step.check(department, account, parts, cost)
    message = Message(
        account=account,
        body=text,
        encoding=analysis.encoding,
        segments=analysis.segments,
        status=Message.Status.SENDING,
        estimated_cost=cost,
        created_by=user,
        department=department,
        idempotency_key=idempotency_key,
        dispatched_at=timezone.now(),
    )
    try:
        delivery = _record_remote_send(message, name, parts, push.pushed)
    except IntegrityError:
        if not idempotency_key:
            raise
        # A second submit of the form recorded its message meanwhile: that one goes, not this.
        existing = sent_with(idempotency_key, user=user, department=department)
        if existing is None:
            raise
        return existing, False
    _settle_remote(delivery, name, _ask_provider(account, name, text), parts, cost)
    message.refresh_from_db()
    return message, True


def _copy_cost(account: ProviderAccount, push, segments: int) -> Decimal:
    """What `segments` parts to each number of `push`'s copy cost, each at its destination's
    price, as `prepare` prices a send (`cost_of`). The portal keeps no record of the numbers
    the copy took, so it prices the list's members who may be sent to (none opted out since
    the copy: `check_no_new_opt_outs`), and any number the copy holds beyond them (a member
    taken off the list since) at the dearest of their prices: the estimate errs on the side
    of the balance and the quotas, never below what the provider may charge."""
    phones = list(sendable_members(push.contact_list).values_list("phone", flat=True))
    cost = cost_of(account, phones, segments)
    if (beyond := push.pushed - len(phones)) > 0:
        prices = PriceTable.of(account)
        dearest = max((prices.price_of(phone) for phone in phones), default=prices.default)
        cost += dearest * segments * beyond
    return cost


def _record_remote_send(message: Message, name: str, parts: int, members: int) -> Delivery:
    """Save `message` with its one delivery, addressed to the list `name`, `sending`, and take
    its parts from the quotas (SendRefused, nothing kept, when one has no room left), in one
    transaction committed before the request leaves. Its lease covers the request's own
    timeouts: a process that dies waiting leaves a row the sweeper turns `unknown`."""
    now = timezone.now()
    lease = timedelta(seconds=CONNECT_TIMEOUT + READ_TIMEOUT + settings.SENDING_LEASE_SECONDS)
    with transaction.atomic():
        message.save()
        quota_step.take(message, message.department, parts, message.estimated_cost)
        delivery = Delivery.objects.create(
            message=message,
            account=message.account,
            phone=f"{LIST_ADDRESS}{name}"[:32],
            status=DeliveryStatus.SENDING,
            segments=message.segments,
            attempts=1,
            sending_at=now,
            first_sent_at=now,
            lease_until=now + lease,
        )
        audit.record(audit.send_event(message), message, recipients=members)
        moves = Transitions()
        day = day_of(delivery.queued_at)
        moves.add(day, message.account_id, message.department_id, DeliveryStatus.SENDING)
        moves.apply()
    return delivery


@dataclass(frozen=True)
class RemoteAnswer:
    """What the provider's answer (or its absence) says of a send to its list."""

    status: DeliveryStatus  # submitted, failed (certainly not taken) or unknown
    provider_message_id: str = ""
    error_code: str = ""
    error_text: str = ""


def _ask_provider(account: ProviderAccount, name: str, text: str) -> RemoteAnswer:
    """Send `text` to the list `name`; never raises, and never takes a doubt for an answer,
    as dispatch's `submit` decides for a batch: `failed` only when the request certainly never
    reached the provider or the provider refused it, `unknown` whenever it may have gone."""
    try:
        result = account.backend.send_to_remote_list(name, OutgoingMessage(text))
    except TransientError as exc:
        if not exc.request_sent:
            return RemoteAnswer(DeliveryStatus.FAILED, "", exc.code, f"Not sent: {exc}")
        return RemoteAnswer(DeliveryStatus.UNKNOWN, "", exc.code, f"Outcome unknown: {exc}")
    except ProtocolError as exc:  # an answer the portal cannot read: it may have gone
        return RemoteAnswer(DeliveryStatus.UNKNOWN, "", exc.code, f"Outcome unknown: {exc}")
    except ProviderError as exc:  # the provider's refusal: nothing was sent
        return RemoteAnswer(DeliveryStatus.FAILED, "", exc.code, str(exc))
    except ImproperlyConfigured as exc:  # the password is decrypted before anything leaves
        return RemoteAnswer(DeliveryStatus.FAILED, "", "cannot-decrypt", f"Not sent: {exc}")
    except Exception as exc:
        log.exception("backend %s crashed while sending to a remote list", account.backend.label)
        return RemoteAnswer(
            DeliveryStatus.UNKNOWN,
            "",
            "internal",
            f"The portal failed while sending ({type(exc).__name__}); "
            "the message may or may not have gone.",
        )
    (answer,) = result.results
    status = {
        SubmitStatus.SUBMITTED: DeliveryStatus.SUBMITTED,
        SubmitStatus.FAILED: DeliveryStatus.FAILED,
    }.get(answer.status, DeliveryStatus.UNKNOWN)
    return RemoteAnswer(status, answer.provider_message_id, answer.error_code, answer.error_text)


def _settle_remote(
    delivery: Delivery, name: str, answer: RemoteAnswer, parts: int, cost: Decimal
) -> None:
    """Write the provider's answer on the list's delivery, and finish its message, counted as
    dispatch's `record` counts a batch: submitted or unknown may have been charged, so it keeps
    its cost and its parts in the quotas; failed was not, so its parts are given back.

    Only a delivery still `sending` is written: if the sweeper gave it up as lost meanwhile
    (it counted it `unknown`), the answer only leaves the provider's id, for a report to
    settle it."""
    now = timezone.now()
    charged = answer.status != DeliveryStatus.FAILED
    reason = answer.error_code[:40]
    with transaction.atomic():
        written = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
            status=answer.status,
            provider_message_id=answer.provider_message_id,
            error_code=reason,
            error_text=answer.error_text,
            cost=cost if charged else None,
            submitted_at=now if answer.status == DeliveryStatus.SUBMITTED else None,
            final_at=None if charged else now,
            lease_until=None,
        )
        if not written:
            if answer.provider_message_id:
                Delivery.objects.filter(
                    pk=delivery.pk, status=DeliveryStatus.UNKNOWN, provider_message_id=""
                ).update(provider_message_id=answer.provider_message_id)
            return
        DeliveryEvent.objects.create(
            delivery=delivery,
            source=DeliveryEvent.Source.SUBMIT,
            from_status=DeliveryStatus.SENDING,
            to_status=answer.status,
            description=answer.error_text,
            raw={"provider_message_id": answer.provider_message_id, "list": name},
        )
        where = (day_of(delivery.queued_at), delivery.account_id, delivery.message.department_id)
        moves = Transitions()
        moves.add(*where, DeliveryStatus.SENDING, "", -1)
        moves.add(*where, answer.status, reason, 1, cost if charged else None)
        moves.apply()
        if not charged:
            quota_step.give_back(delivery.message_id, parts, delivery.account_id)
        Message.objects.filter(pk=delivery.message_id, status=Message.Status.SENDING).update(
            status=Message.Status.DONE, completed_at=now, actual_cost=cost if charged else None
        )
