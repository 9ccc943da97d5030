"""The recurring sends that go from a sender ID a Manager is about to retire (registered with
`senders.uses` from `RecurringConfig.ready`: senders may not import recurring): the active ones,
and the paused ones, which would go from it again once resumed. Ended ones send nothing more.

Once it is retired their runs are refused (`messaging.sending.check_sender`) until someone
chooses another sender ID on the recurring send's Edit page."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from smsportal.messaging.progress import grouped
from smsportal.senders.models import SenderID
from smsportal.senders.uses import SHOWN, Link, Use, unseen_note

from .models import RecurringSend
from .views import schedules_of


def recurring_sends_using(sender: SenderID, request: HttpRequest) -> list[Use]:
    """Six queries at most: how many recurring sends of the account still run from `sender`
    (not ended, every department's), active and paused apart, how many of each the person may
    open, and the first few of those by name."""
    rows = RecurringSend.objects.filter(
        account_id=sender.account_id, sender=sender.value, next_at__isnull=False
    )
    uses = []
    if active := _use_of(sender, rows.filter(paused=False), request, _active_words):
        uses.append(active)
    if paused := _use_of(sender, rows.filter(paused=True), request, _paused_words):
        uses.append(paused)
    return uses


def _active_words(count: int) -> tuple[str, str]:
    summary = ngettext(
        "%(count)s active recurring send",
        "%(count)s active recurring sends",
        count,
    ) % {"count": grouped(count)}
    outcome = ngettext(
        "Its runs are refused until another sender ID is chosen.",
        "Their runs are refused until another sender ID is chosen.",
        count,
    )
    return summary, outcome


def _paused_words(count: int) -> tuple[str, str]:
    summary = ngettext(
        "%(count)s paused recurring send",
        "%(count)s paused recurring sends",
        count,
    ) % {"count": grouped(count)}
    outcome = ngettext(
        "It is paused; once resumed, its runs are refused until another sender ID is chosen.",
        "They are paused; once resumed, their runs are refused until another sender ID is chosen.",
        count,
    )
    return summary, outcome


def _use_of(
    sender: SenderID,
    rows: QuerySet[RecurringSend],
    request: HttpRequest,
    words: Callable[[int], tuple[str, str]],
) -> Use | None:
    count = rows.count()
    if not count:
        return None
    theirs = rows.filter(pk__in=schedules_of(request).values("pk"))
    seen = count if request.user.is_superuser else theirs.count()
    shown = theirs.only("name")[:SHOWN]
    links = [Link(schedule.name, schedule.get_absolute_url()) for schedule in shown]
    more = None
    if seen > len(links):
        # The recurring sends page of this sender ID: it names no sender ID per row, and marks
        # a row's sender ID only once it can no longer be used (after retiring, not before).
        query = urlencode({"account": sender.account_id, "sender": sender.value})
        more = Link(
            _("and %(count)s more on the recurring sends page")
            % {"count": grouped(seen - len(links))},
            f"{reverse('recurring:list')}?{query}",
        )
    summary, outcome = words(count)
    return Use(summary, links, more, outcome, unseen_note(count - seen, seen))
