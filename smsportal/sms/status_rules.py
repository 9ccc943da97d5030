"""The rules of a delivery's status, in one table: which status may move to which (and what moves
it), which are final, and which bucket of the daily counters each counts in.

Everything that changes a delivery's status or counts it takes its rules from here: the send
path (`messaging.dispatch`), the delivery-report paths (the portable one in
`messaging.delivery_reports.apply` and the one-statement PostgreSQL one in
`messaging.delivery_reports.apply_sql`) and the daily counters (`messaging.daily_stats`).
`tests/sms/test_status_rules.py` holds both report paths to `REPORT_MOVES`, pair by pair, on
SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .status import DeliveryStatus

S = DeliveryStatus


@dataclass(frozen=True, kw_only=True)
class StatusRule:
    """What the portal knows about one status."""

    final: bool  # no later report or step moves a delivery out of it
    bucket: DeliveryStatus  # the status it is counted as in the daily counters
    counted_with_reason: bool  # the counters keep its error code ("top failure reasons")


RULES: Mapping[DeliveryStatus, StatusRule] = {
    S.QUEUED: StatusRule(final=False, bucket=S.QUEUED, counted_with_reason=False),
    # The counters do not tell a claimed delivery from a waiting one.
    S.SENDING: StatusRule(final=False, bucket=S.QUEUED, counted_with_reason=False),
    S.SUBMITTED: StatusRule(final=False, bucket=S.SUBMITTED, counted_with_reason=False),
    S.DELIVERED: StatusRule(final=True, bucket=S.DELIVERED, counted_with_reason=False),
    S.UNDELIVERED: StatusRule(final=True, bucket=S.UNDELIVERED, counted_with_reason=True),
    S.EXPIRED: StatusRule(final=True, bucket=S.EXPIRED, counted_with_reason=True),
    S.REJECTED: StatusRule(final=True, bucket=S.REJECTED, counted_with_reason=True),
    S.FAILED: StatusRule(final=True, bucket=S.FAILED, counted_with_reason=True),
    # Not final: a late report may still settle it.
    S.UNKNOWN: StatusRule(final=False, bucket=S.UNKNOWN, counted_with_reason=True),
    S.CANCELLED: StatusRule(final=True, bucket=S.CANCELLED, counted_with_reason=False),
    S.SKIPPED: StatusRule(final=True, bucket=S.SKIPPED, counted_with_reason=False),
}

FINAL = frozenset(status for status, rule in RULES.items() if rule.final)
COUNTED_WITH_REASON = frozenset(s for s, rule in RULES.items() if rule.counted_with_reason)


def bucket(status: str) -> DeliveryStatus:
    """The status `status` is counted as in the daily counters."""
    return RULES[DeliveryStatus(status)].bucket


# --- moves -------------------------------------------------------------------------------------

# What a provider's delivery report (webhook, poll, SMPP receipt) can say. The other statuses are
# ours: a report never queues, claims, fails, cancels or skips a delivery.
REPORTABLE = frozenset({S.SUBMITTED, S.DELIVERED, S.UNDELIVERED, S.EXPIRED, S.REJECTED, S.UNKNOWN})
# A report may settle a delivery whose fate is still open: not yet answered by the provider
# (queued or sending: a report can beat the batch that writes its answer) or answered but not
# final. "Accepted / en route" (submitted) says something new only where the fate was unknown.
REPORT_MOVES: frozenset[tuple[DeliveryStatus, DeliveryStatus]] = frozenset(
    (old, new)
    for old in (S.QUEUED, S.SENDING, S.SUBMITTED, S.UNKNOWN)
    for new in REPORTABLE
    if old != new and (new != S.SUBMITTED or old == S.UNKNOWN)
)
# A report that says why a text did not arrive replaces the delivery's error code and text;
# one that says it arrived, or is on its way, leaves them.
REPORT_KEEPS_ERROR = frozenset({S.DELIVERED, S.SUBMITTED})

# The moves of the send path, with what makes each.
SEND_MOVES: Mapping[tuple[DeliveryStatus, DeliveryStatus], str] = {
    (S.QUEUED, S.SENDING): "a worker claims it",
    (S.QUEUED, S.SKIPPED): "the number opted out before it was sent",
    (S.QUEUED, S.FAILED): "no request can be built (the account's password is unreadable)",
    (S.QUEUED, S.CANCELLED): "staff cancel the message",
    (S.SENDING, S.SUBMITTED): "the provider accepts it",
    (S.SENDING, S.FAILED): "the provider refuses it",
    (S.SENDING, S.UNKNOWN): "no certain answer, or its worker was lost mid-send",
    (S.SENDING, S.QUEUED): "its worker was lost before the request left (sent again later)",
    # Not a move: the provider's late answer leaves the delivery unknown, with its id kept.
    (S.UNKNOWN, S.UNKNOWN): "the provider answers after its worker was given up for lost",
}

MOVES = frozenset(REPORT_MOVES | set(SEND_MOVES))


def report_may_move(old: str, new: str) -> bool:
    """Whether a report saying `new` moves a delivery that is `old`."""
    return (DeliveryStatus(old), DeliveryStatus(new)) in REPORT_MOVES


def moved_by_report(new: str) -> list[DeliveryStatus]:
    """The statuses a report saying `new` moves a delivery out of (in the table's order)."""
    return [old for old in DeliveryStatus if (old, new) in REPORT_MOVES]


def report_sets_final_at(new: str) -> bool:
    return DeliveryStatus(new) in FINAL


def report_replaces_error(new: str) -> bool:
    return DeliveryStatus(new) not in REPORT_KEEPS_ERROR
