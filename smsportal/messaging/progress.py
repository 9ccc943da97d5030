"""Counts of a message's deliveries by status, for the progress bar and the messages list."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from django.utils.functional import lazy
from django.utils.timezone import localtime, now
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from smsportal.core.prepared import Prepared
from smsportal.core.text import grouped
from smsportal.core.words import word
from smsportal.sms.status import COLOURS, DeliveryStatus

from .models import MessageStatusCount

# The progress bar's segments, in order; each in its status's colour (`DeliveryStatus.colour`).
BAR = list(COLOURS)


@dataclass
class Progress:
    counts: dict[str, int]
    # Rows skipped when the message was made (numbers that had opted out, invalid ones, with no
    # route): kept on the message, with their reason, but never among its recipients, which are
    # the numbers the person confirmed (`Message.recipient_count`). See `made_for`.
    set_aside: int = 0

    def made_for(self, recipient_count: int) -> Progress:
        """These counts, with the skipped rows beyond the message's `recipient_count` set aside.
        A number skipped later (opted out during the send) was a recipient and stays one; a
        message with fewer rows than recipients sets nothing aside."""
        beyond = max(self.total - recipient_count, 0)
        return replace(self, set_aside=min(beyond, self.get(DeliveryStatus.SKIPPED)))

    @property
    def total(self) -> int:
        """Every row of the message, skipped ones included (the recipients table's "All")."""
        return sum(self.counts.values())

    @property
    def recipients(self) -> int:
        """The numbers the message is sent to, as confirmed: the rows set aside left out."""
        return self.total - self.set_aside

    @property
    def processed(self) -> int:
        """Recipients no longer waiting for a worker (sent, refused, skipped or withdrawn)."""
        waiting = self.counts.get(DeliveryStatus.QUEUED, 0) + self.counts.get(
            DeliveryStatus.SENDING, 0
        )
        return self.recipients - waiting

    @property
    def percent_processed(self) -> int:
        return round(100 * self.processed / self.recipients) if self.recipients else 100

    @property
    def bar(self) -> list[dict]:
        total = self.total or 1
        return [
            {
                "status": status.value,
                "css": status.colour,
                "count": self.counts[status],
                "percent": 100 * self.counts[status] / total,
            }
            for status in BAR
            if self.counts.get(status)
        ]

    @property
    def summary(self) -> str:
        """ "28 delivered, 2 failed": the non-zero counts in the bar's order."""
        # The list's comma is the reader's: "28 delivered, 2 failed", "28 وصلت، 2 فشلت".
        return _(", ").join(
            f"{grouped(seg['count'])} {word(seg['status'])}" for seg in self.bar
        ) or _("no recipient")

    def get(self, status: str) -> int:
        return self.counts.get(status, 0)


def progress_of(message_ids: Iterable[int]) -> dict[int, Progress]:
    """Progress of several messages in one query of their status counts (MessageStatusCount,
    kept by the database with every status change): a few rows a message, at any size."""
    rows = MessageStatusCount.objects.filter(
        message_id__in=list(message_ids), count__gt=0
    ).values_list("message_id", "status", "count")
    result: dict[int, Progress] = {}
    for message_id, status, n in rows:
        result.setdefault(message_id, Progress({})).counts[status] = n
    return result


# One message's counts, asked on every poll of its page: compiled once per connection.
_counts_of = Prepared(
    lambda message_id: MessageStatusCount.objects.filter(
        message_id=message_id, count__gt=0
    ).values_list("status", "count"),
    int,
)


def progress(message_id: int) -> Progress:
    return Progress(dict(_counts_of(message_id)))


@dataclass(frozen=True)
class Phase:
    """What the message page says about a message as a whole, from one set of counts."""

    label: str  # the status word staff see (never the internal "draft")
    css: str  # Bootstrap colour of the badge and the banner
    text: str  # one sentence for the banner (lazy: written when shown)
    live: bool  # whether the page should keep asking for news
    cancellable: bool  # whether Cancel still has anything to withdraw


def is_due(message) -> bool:
    """A scheduled message whose time has come and that nothing holds: its dispatch is enqueued
    for a time now past (its own, or the one a change of a held message kept), and a worker
    starts it in a moment. A hold (`held_reason`: a flood rule's, a retired sender's) is set
    by the worker, and a change clears it (`sending.reschedule`)."""
    return (
        message.status == type(message).Status.SCHEDULED
        and message.scheduled_for is not None
        and message.scheduled_for <= now()
        and not message.held_reason
    )


def phase_of(message, counts: Progress, *, reports_expected: bool, held: bool = False) -> Phase:
    """The message's phase as staff see it, agreeing with `counts` (its deliveries by status).

    A message is `draft` in the database from Confirm until a worker picks it up; to staff it
    is already queued, and so is a scheduled message whose time has come (`is_due`) unless the
    caller knows the worker will hold it (`held`: its sender ID can no longer be sent from).
    Cancel is offered only while some delivery is still queued, since deliveries a worker has
    claimed are on their way to the provider and cannot be withdrawn.
    """
    Status = type(message).Status
    queued = counts.get(DeliveryStatus.QUEUED)
    waiting = queued + counts.get(DeliveryStatus.SENDING)
    awaiting = counts.get(DeliveryStatus.SUBMITTED) if reports_expected else 0
    open_message = message.status in (Status.DRAFT, Status.SCHEDULED, Status.SENDING)
    cancellable = open_message and queued > 0
    total = counts.recipients  # as confirmed on Compose (`Progress.made_for`)
    if message.status == Status.CANCELLED:
        withdrawn = counts.get(DeliveryStatus.CANCELLED)
        return Phase(
            "cancelled",
            "secondary",
            _later(
                lambda: (
                    ngettext(
                        "Cancelled: %(count)s delivery was withdrawn before sending.",
                        "Cancelled: %(count)s deliveries were withdrawn before sending.",
                        withdrawn,
                    )
                    % {"count": grouped(withdrawn)}
                )
            ),
            live=waiting > 0 or awaiting > 0,
            cancellable=False,
        )
    if message.status == Status.SCHEDULED and not (is_due(message) and not held):
        text = _later(
            lambda: (
                ngettext(
                    "Scheduled for %(when)s, to %(count)s recipient.",
                    "Scheduled for %(when)s, to %(count)s recipients.",
                    total,
                )
                % {
                    # In the reader's time zone, as the page's "Scheduled for" row reads it.
                    "when": f"{localtime(message.scheduled_for):%Y-%m-%d %H:%M}"
                    if message.scheduled_for
                    else _("later"),
                    "count": grouped(total),
                }
            )
        )
        return Phase("scheduled", "info", text, False, cancellable)
    if message.status in (Status.DRAFT, Status.SCHEDULED):  # a scheduled one is due
        text = _later(
            lambda: (
                ngettext(
                    "Queued: sending to %(count)s recipient starts in a moment.",
                    "Queued: sending to %(count)s recipients starts in a moment.",
                    total,
                )
                % {"count": grouped(total)}
            )
        )
        return Phase("queued", "secondary", text, True, cancellable)
    if message.status == Status.SENDING or waiting:
        text = _later(
            lambda: (
                ngettext(
                    "Sending: %(processed)s of %(count)s recipient processed, "
                    "%(waiting)s still to go.",
                    "Sending: %(processed)s of %(count)s recipients processed, "
                    "%(waiting)s still to go.",
                    total,
                )
                % {
                    "processed": grouped(counts.processed),
                    "count": grouped(total),
                    "waiting": grouped(waiting),
                }
            )
        )
        return Phase("sending", "primary", text, True, cancellable)
    if awaiting:
        text = _later(
            lambda: (
                ngettext(
                    "Handed to the provider: %(summary)s. Waiting for delivery reports on "
                    "%(count)s recipient.",
                    "Handed to the provider: %(summary)s. Waiting for delivery reports on "
                    "%(count)s recipients.",
                    awaiting,
                )
                % {"summary": counts.summary, "count": grouped(awaiting)}
            )
        )
        return Phase("done", "info", text, True, False)
    text = _later(lambda: _("Done: %(summary)s.") % {"summary": counts.summary})
    return Phase("done", outcome_css(counts), text, False, False)


# Outcomes of a finished message that did not reach, or may not have reached, their number.
NOT_REACHED = (
    DeliveryStatus.FAILED,
    DeliveryStatus.UNKNOWN,
    DeliveryStatus.UNDELIVERED,
    DeliveryStatus.REJECTED,
    DeliveryStatus.EXPIRED,
)
HANDED_OVER = (DeliveryStatus.DELIVERED, DeliveryStatus.SUBMITTED)


def outcome_css(counts: Progress) -> str:
    """The colour of a finished message: a warning when some recipient failed or may not have
    got it (staff may retry them), green only when every one sent was delivered or handed to
    the provider, grey when nothing was sent (every number skipped)."""
    if any(counts.get(status) for status in NOT_REACHED):
        return "warning"
    if any(counts.get(status) for status in HANDED_OVER):
        return "success"
    return "secondary"


def _later(make: Callable[[], str]) -> str:
    """The banner's sentence, written when a page shows it: the messages list shows each row's
    badge, never its sentence, and fifty sentences were a tenth of that page's time."""
    return _written_when_shown(make)


# `lazy` builds its proxy class once here, not on every call.
_written_when_shown = lazy(lambda make: make(), str)
