"""The one way a delivery report changes a delivery: normalised StatusUpdate in, DeliveryEvent and
status change out. Every entrance (ISMS webhook, KalaSMS poll, SMPP receipt) comes through here.

The rules are the rule table's (`smsportal.sms.status_rules`): a report moves only what
`REPORT_MOVES` allows, so a final status never moves and the same report twice changes nothing
the second time. A report for an id we do not know is stored as an UnmatchedReport and applied
when the id appears.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import connection, transaction
from django.utils import timezone

from smsportal.providers.backends.base import StatusUpdate
from smsportal.providers.models import ProviderAccount
from smsportal.sms.status import DeliveryStatus
from smsportal.sms.status_rules import (
    report_may_move,
    report_replaces_error,
    report_sets_final_at,
)

from ..daily_stats import Transitions, day_of
from ..id_lists import one_parameter
from ..models import Delivery, DeliveryEvent, DeliveryPart, Message, UnmatchedReport
from ..parts import through_parts
from . import apply_sql

log = logging.getLogger(__name__)


def _matching(account_id: int, update: StatusUpdate, *, one_part_only: bool = False):
    rows = Delivery.objects.filter(
        account_id=account_id, provider_message_id=update.provider_message_id
    ).only(
        "status",
        "error_code",
        "error_text",
        "final_at",
        "queued_at",
        "account_id",
        "cost",
        "message",
    )
    rows = rows.order_by("pk")  # one lock order for reports racing over the same rows
    # IntelliSoftware gives one id to every recipient of a submission: the number tells them apart.
    if update.recipient:
        rows = rows.filter(phone=update.recipient)
    if one_part_only:
        rows = rows.filter(segments__lte=1)
    return rows


def _apply(delivery: Delivery, update: StatusUpdate, source: str, now) -> DeliveryEvent | None:
    if not report_may_move(delivery.status, update.status):
        return None
    previous = delivery.status
    delivery.status = update.status
    if report_sets_final_at(update.status):
        delivery.final_at = update.occurred_at or now
    if report_replaces_error(update.status):
        # Why it did not arrive, in the provider's code and our sentence, where the report says.
        delivery.error_code = update.provider_status[:40] or delivery.error_code
        delivery.error_text = update.description or delivery.error_text
    return DeliveryEvent(
        delivery=delivery,
        source=source,
        from_status=previous,
        to_status=update.status,
        provider_status=update.provider_status[:40],
        description=update.description,
        raw=dict(update.raw),
    )


def _write(deliveries: list[Delivery], update: StatusUpdate, source: str) -> int:
    now = timezone.now()
    before = {d.pk: (d.status, d.error_code) for d in deliveries}
    events = [event for d in deliveries if (event := _apply(d, update, source, now))]
    if events:
        moves = Transitions()
        # Whose figures each move counts in (DailyDeliveryStats.department_key). Read apart, not
        # joined to the locking query: FOR UPDATE would lock the message rows too.
        department_of = dict(
            Message.objects.filter(pk__in={e.delivery.message_id for e in events}).values_list(
                "pk", "department_id"
            )
        )
        for event in events:
            d = event.delivery
            old_status, old_reason = before[d.pk]
            moves.move(
                day_of(d.queued_at),
                d.account_id,
                department_of.get(d.message_id),
                old_status,
                d.status,
                old_reason=old_reason,
                new_reason=d.error_code,
                old_cost=d.cost,
                new_cost=d.cost,
            )
        moves.apply()
        changed = [event.delivery for event in events]
        if len(changed) == 1:  # the usual report: a plain UPDATE, not bulk_update's CASE
            d = changed[0]
            Delivery.objects.filter(pk=d.pk).update(
                status=d.status,
                final_at=d.final_at,
                error_code=d.error_code,
                error_text=d.error_text,
            )
        else:
            Delivery.objects.bulk_update(
                changed, ["status", "final_at", "error_code", "error_text"]
            )
        DeliveryEvent.objects.bulk_create(events)
    return len(events)


def apply_status_update(
    account: ProviderAccount, update: StatusUpdate, source: str = DeliveryEvent.Source.WEBHOOK
) -> int:
    """Apply one report; returns how many deliveries changed (0 for a repeat or an unknown id)."""
    if not account.backend.capabilities.receipts_per_part:
        return _apply_to_deliveries(account, update, source)
    matched_part, whole = through_parts(account.pk, update)
    if matched_part:
        if whole is None:
            return 0  # kept on its part; the other parts have not settled the delivery yet
        return _apply_to_deliveries(account, whole, source)
    # No part has this id. A delivery cut into parts is reached through its parts only (else
    # the first part's receipt would count for the whole text), so the report goes straight
    # only to a delivery of one part, checked in the statement that moves it. A batch writes a
    # delivery's id and its parts' ids in one transaction: if it committed after the look for
    # the part, the statement sees the delivery but does not take it, and the report is kept
    # and applied through its part once it is committed (`_keep_unmatched`).
    return _apply_to_deliveries(account, update, source, one_part_only=True)


def _through_parts(account: ProviderAccount, update: StatusUpdate):
    """Only providers that report each part of a long text look for a part (one query saved on
    every other report)."""
    if not account.backend.capabilities.receipts_per_part:
        return False, update
    return through_parts(account.pk, update)


def _apply_to_deliveries(
    account: ProviderAccount, update: StatusUpdate, source: str, *, one_part_only: bool = False
) -> int:
    if connection.vendor == "postgresql":  # one statement, see apply_sql
        matched, moved = apply_sql.apply(account.pk, update, source, one_part_only=one_part_only)
    else:
        matched, moved = apply_portably(account.pk, update, source, one_part_only=one_part_only)
    if not matched:
        _keep_unmatched(account, update, source)
    return moved


def apply_portably(
    account_id: int, update: StatusUpdate, source: str, *, one_part_only: bool = False
) -> tuple[int, int]:
    """(deliveries matching the report, deliveries it moved), in one transaction on any
    database: `apply_sql.apply`'s twin, held to the same rules."""
    with transaction.atomic():
        matching = _matching(account_id, update, one_part_only=one_part_only)
        deliveries = list(matching.select_for_update())
        if not deliveries:
            return 0, 0
        return len(deliveries), _write(deliveries, update, source)


def _keep_unmatched(account: ProviderAccount, update: StatusUpdate, source: str) -> None:
    """A report for an id we do not know (yet): kept, and applied when the id appears.

    The batch that writes the id applies the reports kept for it once its write has committed.
    A report kept while that happens may be committed just after the batch looked: so, once
    this one is committed, look for the id again (one of the two looks always sees the other's
    write, so no report is left unmatched for ever)."""
    UnmatchedReport.objects.create(
        account=account,
        provider_message_id=update.provider_message_id,
        recipient=update.recipient,
        status=update.status,
        provider_status=update.provider_status[:40],
        description=update.description,
        source=source,
        raw=dict(update.raw),
    )
    # After the insert: outside a transaction, on_commit runs at once.
    transaction.on_commit(lambda: _apply_if_known(account, update.provider_message_id), robust=True)


def _apply_if_known(account: ProviderAccount, provider_message_id: str) -> None:
    known = (
        Delivery.objects.filter(
            account_id=account.pk, provider_message_id=provider_message_id
        ).exists()
        or DeliveryPart.objects.filter(
            account_id=account.pk, provider_message_id=provider_message_id
        ).exists()
    )
    if known:
        apply_unmatched_reports(account, [provider_message_id])


def apply_unmatched_reports(account: ProviderAccount, provider_ids: Iterable[str]) -> int:
    """Apply stored reports for ids a batch has just recorded (one query when there are none)."""
    ids = list(provider_ids)
    if not ids or not _any_open(account.pk, ids):
        return 0
    pending = list(
        UnmatchedReport.objects.filter(
            account=account,
            provider_message_id__in=one_parameter(ids, "text"),
            applied_at__isnull=True,
        ).order_by("received_at", "id")
    )
    applied = 0
    for report in pending:
        update = StatusUpdate(
            provider_message_id=report.provider_message_id,
            status=DeliveryStatus(report.status),
            provider_status=report.provider_status,
            description=report.description,
            recipient=report.recipient,
            raw=report.raw,
        )
        # The report applied and marked applied together, or neither: whoever sees its part
        # (or delivery) moved also sees it closed.
        with transaction.atomic():
            matched_part, whole = _through_parts(account, update)
            if matched_part:
                if whole is not None:
                    applied += _apply_to_deliveries(account, whole, report.source)
                UnmatchedReport.objects.filter(pk=report.pk).update(applied_at=timezone.now())
                continue
            # Looked at once the id is committed, with the parts' ids written in the same
            # transaction: a report that found no part here names a delivery, not a part of one.
            deliveries = list(_matching(account.pk, update).select_for_update())
            if deliveries:
                applied += _write(deliveries, update, report.source)
                UnmatchedReport.objects.filter(pk=report.pk).update(applied_at=timezone.now())
    return applied


def _any_open(account_id: int, ids: list[str]) -> bool:
    """Whether any report kept for these ids is still open: one statement written once, on the
    open reports' partial index. A batch sending one number per request asks after every few
    answers, and the answer is nearly always no."""
    table = connection.ops.quote_name(UnmatchedReport._meta.db_table)
    listed = one_parameter(ids, "text")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {table} WHERE account_id = %s AND applied_at IS NULL "  # noqa: S608
            f"AND provider_message_id IN ({listed.sql}) LIMIT 1",
            [account_id, *listed.params],
        )
        return cursor.fetchone() is not None
