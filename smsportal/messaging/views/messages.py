"""Messages: the list with status counts, the detail with its live progress, and staff actions
(cancel, retry failed/unknown as a new message, change a scheduled message)."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.cache import cache
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.text import Truncator
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext
from django.views.decorators.http import require_POST

from smsportal.core import audit
from smsportal.core.words import word
from smsportal.departments.models import Department
from smsportal.departments.scope import department_ids, sees_everything, within
from smsportal.providers.models import ProviderAccount
from smsportal.senders.models import SenderID
from smsportal.senders.selectors import (
    sender_choices,
    sender_choices_keeping,
    unusable,
    unusable_among,
)
from smsportal.sms.encoding import gsm_equivalent
from smsportal.sms.status import DeliveryStatus

from .. import sending
from ..models import Delivery, Message
from ..progress import Progress, grouped, is_due, phase_of, progress, progress_of
from ..scope import messages_of, page_message
from .compose import text_preview

PAGE_SIZE = 50


@permission_required("messaging.view_message", raise_exception=True)
def message_list(request: HttpRequest) -> HttpResponse:
    """The messages, newest first, a keyset page at a time: what it costs does not grow with
    the number of messages nor with their sizes (status counts are kept per message)."""
    departments = None if sees_everything(request) else department_ids(request)
    visible = within(Message.objects.all(), departments)
    rows = visible
    status = request.GET.get("status", "")
    account = request.GET.get("account", "")
    # A sender ID's messages: the retire confirmation's "and N more" scheduled messages
    # (messaging/sender_uses.py), or the filter's own select.
    sender = request.GET.get("sender", "").strip()[: Message._meta.get_field("sender").max_length]
    if status in Message.Status.values:
        rows = rows.filter(status=status)
    if account.isdigit():
        rows = rows.filter(account_id=int(account))
    if sender:
        rows = rows.filter(sender=sender)
    ids = listed_ids(request.GET.get("ids", ""))
    if ids:
        rows = rows.filter(pk__in=ids)
    page = message_page(rows, visible, request)
    # The filter's choices and each row's account, read after the page so that every row's
    # account is among them (accounts are few; no join per row).
    accounts = {a.pk: a for a in ProviderAccount.objects.only("name", "kind")}
    progress_by_id = progress_of(m.pk for m in page.items)
    words: dict[str, str] = {}
    ellipsis = pgettext("String to return when truncating text", "%(truncated_text)s…")
    for message in page.items:
        message.account = accounts[message.account_id]
        message.progress = progress_by_id.get(message.pk, Progress({})).made_for(
            message.recipient_count
        )
        capabilities = message.account.backend_class.capabilities
        message.phase = phase_of(
            message,
            message.progress,
            reports_expected=message.want_delivery_report and capabilities.delivery_reports,
        )
        # Each row's words, numbers, times and text written here, each word translated once
        # per page: as template filters they were a fifth of the page (a date format, a
        # number format and two translations per row; `truncatechars` asks for its ellipsis).
        label = message.phase.label
        message.phase_word = words.get(label) or words.setdefault(label, str(word(label)))
        message.recipients = grouped(message.progress.recipients)  # as confirmed on Compose
        message.short_body = Truncator(message.body).chars(60, truncate=ellipsis)
        created = localtime(message.created_at)
        message.created = f"{created:%Y-%m-%d %H:%M}"
        message.created_exactly = f"{created:%Y-%m-%d %H:%M:%S}"  # its title, to the second
        message.scheduled = (
            f"{localtime(message.scheduled_for):%Y-%m-%d %H:%M}" if message.scheduled_for else ""
        )
    mark_unusable_senders(page.items)
    context = {
        "page": page,
        # A draft is a message between Confirm and the worker picking it up: queued, to staff.
        "statuses": [
            (value, word("queued" if value == Message.Status.DRAFT else value))
            for value, label in Message.Status.choices
        ],
        "accounts": accounts.values(),
        "no_department": not departments
        if departments is not None
        else not Department.objects.exists(),
        "status": status,
        "account": account,
        "sender": sender,
        "senders": sender_values(sender),
        "ids": ids,
        "filter_query": urlencode(
            {
                k: v
                for k, v in (
                    ("status", status),
                    ("account", account),
                    ("sender", sender),
                    ("ids", ",".join(map(str, ids))),
                )
                if v
            }
        ),
    }
    return render(request, "messaging/message_list.html", context)


def sender_values(chosen: str) -> list[str]:
    """The sender filter's choices: every sender ID of every account, retired ones too (their
    messages stay), each value once; and the one chosen, though no account lists it (any more)."""
    # Without the model's ordering (by account name), which DISTINCT would select and join.
    values = set(SenderID.objects.order_by().values_list("value", flat=True).distinct())
    if chosen:
        values.add(chosen)
    return sorted(values, key=str.casefold)


@dataclass
class MessagePage:
    """A page of the messages list, newest first, found from the message at its edge (keyset)
    rather than by offset: page 1,000 costs what page 1 does, and nothing is counted."""

    items: list
    newer: int | None  # `after=` for the newer page, if there is one
    older: int | None  # `before=` for the older page, if there is one


def message_page(rows, visible, request: HttpRequest) -> MessagePage:
    """`rows` (filtered) in the list's order, newest first: (created_at, id) descending.

    `?before=<id>` is the page of messages older than message `id`, `?after=<id>` the page of
    those newer. The edge message is looked up among the messages the person may see (`visible`,
    unfiltered: it may have changed status since), and a position that is not one (a message
    deleted since, or never seen) gives the first page."""
    size = PAGE_SIZE
    before, after = _id(request.GET.get("before", "")), _id(request.GET.get("after", ""))
    edge = after if after is not None else before
    at = (
        visible.filter(pk=edge).values_list("created_at", flat=True).first()
        if edge is not None
        else None
    )
    if at is not None and after is not None:
        newer_rows = rows.filter(created_at__gte=at).filter(Q(created_at__gt=at) | Q(pk__gt=edge))
        found = list(newer_rows.order_by("created_at", "id")[: size + 1])
        if len(found) > size:
            items = found[:size][::-1]
            return MessagePage(items, items[0].pk, items[-1].pk)
        at = None  # fewer than a page newer: that is the first page, whole
    if at is not None:
        rows = rows.filter(created_at__lte=at).filter(Q(created_at__lt=at) | Q(pk__lt=edge))
    found = list(rows.order_by("-created_at", "-id")[: size + 1])
    items = found[:size]
    return MessagePage(
        items,
        items[0].pk if at is not None and items else None,
        items[-1].pk if len(found) > size else None,
    )


def _id(value: str) -> int | None:
    return int(value) if value.isdigit() else None


@dataclass
class DeliveryPage:
    """One page of a message's recipients in id order, found by id (keyset) rather than by
    offset: the last page of a million costs what the first does, and nothing is counted."""

    items: list
    earlier: int | None  # `before=` for the previous page, if there is one
    later: int | None  # `after=` for the next page, if there is one


def delivery_page(rows, request: HttpRequest, size: int = PAGE_SIZE) -> DeliveryPage:
    before = request.GET.get("before", "")
    after = request.GET.get("after", "")
    if before.isdigit():
        found = list(rows.filter(pk__lt=int(before)).order_by("-pk")[: size + 1])
        more = len(found) > size
        items = found[:size][::-1]
        return DeliveryPage(
            items, items[0].pk if more and items else None, items[-1].pk if items else None
        )
    if after.isdigit():
        rows = rows.filter(pk__gt=int(after))
    found = list(rows.order_by("pk")[: size + 1])
    items = found[:size]
    return DeliveryPage(
        items,
        items[0].pk if after.isdigit() and items else None,
        items[-1].pk if len(found) > size else None,
    )


def failed_over(message: Message, page: DeliveryPage) -> DeliveryPage:
    """Mark the rows that failed over (messaging/failover.py) with the account they went
    through; one query, and only for a message sent by a route."""
    if message.route_id is None:
        return page
    others = {d.account_id for d in page.items} - {message.account_id}
    if others:
        accounts = ProviderAccount.objects.in_bulk(others)
        for delivery in page.items:
            delivery.failed_over_to = accounts.get(delivery.account_id)
    return page


# While a send runs the live part is asked for every second, and its recipients table (fifty
# rows) was most of each answer's cost. The table and the message's facts are drawn again only
# when the counts have changed, at most every ROWS_PACE seconds, and always when the page stops
# following (the last answer shows the final table); in between the page keeps what it shows.
ROWS_PACE = 5


@dataclass(frozen=True)
class Shown:
    """What the page's recipients table was drawn from (`key`: the message's status and counts)
    and when (`at`, seconds since the epoch). It travels in the poll's URL (`?shown=key.at`),
    so the server keeps no state per open page; a made-up value only changes what that page
    itself shows, and never for longer than ROWS_PACE seconds or past the end of the send."""

    key: str
    at: int

    @classmethod
    def parse(cls, value: str) -> Shown | None:
        key, _dot, at = value.partition(".")
        if len(key) == 12 and at.isdigit() and all(c in "0123456789abcdef" for c in key):
            return cls(key, int(at))
        return None

    def __str__(self) -> str:
        return f"{self.key}.{self.at}"


def rows_key(message: Message, counts: Progress) -> str:
    """Changes whenever a delivery or the message changes status (every change moves a count)."""
    drawn = ";".join(
        [
            message.status,
            str(message.actual_cost),
            *sorted(f"{s}={n}" for s, n in counts.counts.items()),
        ]
    )
    return hashlib.blake2s(drawn.encode(), digest_size=6).hexdigest()


def keeps_rows(seen: Shown | None, key: str, now: int, *, following: bool) -> bool:
    """Whether a poll may leave the table the page shows as it is."""
    if seen is None or not following:
        return False  # a page of its own, a filter chosen, or the last answer: draw it all
    return seen.key == key or now - seen.at < ROWS_PACE


@permission_required("messaging.view_message", raise_exception=True)
def message_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The message page, and its live part (`#message-live`) alone for htmx.

    The live part holds everything a send changes (actions, banner, progress card, filter
    counts, recipients table), so the page follows a send without reloading. A poll costs two
    queries whatever the message's size: the message (with its API origin) and its counts by
    status; a third, one page of rows, when the table is drawn again (see ROWS_PACE); and one
    of its unknown counts by first send while unknown deliveries wait at a provider that
    deduplicates (the retry warning, `sending.retry_warning`); and one whether a message of a
    single delivery, failed or unknown, went to a list kept at the provider (no Retry then).
    """
    message = page_message(request, pk)
    if message is None:
        raise Http404("No message matches the given query.")
    counts = progress(message.pk).made_for(message.recipient_count)
    capabilities = message.account.backend_class.capabilities
    reports_expected = message.want_delivery_report and capabilities.delivery_reports
    status = request.GET.get("status", "")
    if status not in DeliveryStatus.values:
        status = ""
    phase = phase_of(message, counts, reports_expected=reports_expected)
    live_part = bool(request.htmx) and request.htmx.target == "message-live"
    now = int(time.time())
    key = rows_key(message, counts)
    seen = Shown.parse(request.GET.get("shown", "")) if live_part else None
    keep_rows = keeps_rows(seen, key, now, following=phase.live)
    # What Retry offers: the failed and unknown deliveries no retry took yet.
    retryable = sending.left_to_retry(message, counts)
    sender = sender_check(message, retryable, facts_drawn=not keep_rows)
    if message.status == Message.Status.SCHEDULED and sender.get("sender_held") and phase.live:
        # Its time came, but from a sender ID that cannot go: the worker holds it, it does
        # not send it. The page stops following it, and draws all it shows.
        phase = phase_of(message, counts, reports_expected=reports_expected, held=True)
        keep_rows = False
    shown = seen if keep_rows else Shown(key, now)
    to_list = sending.went_to_a_list(message, counts)
    poll = request.GET.copy()
    poll["shown"] = str(shown)
    context = {
        "message": message,
        "progress": counts,
        "phase": phase,
        # Sent, but reports still to come: keep the page live, at a gentler pace.
        "awaiting_reports": reports_expected and bool(counts.get(DeliveryStatus.SUBMITTED)),
        "poll_url": f"{request.path}?{poll.urlencode()}",
        "keep_rows": keep_rows,
        "deliveries": None if keep_rows else _delivery_rows(message, status, request),
        "status": status,
        "filter_query": urlencode({"status": status}) if status else "",
        "no_reports_note": _says_why_submitted_stays(capabilities, phase, counts),
        # Cancel's question (data-confirm), written only when Cancel is offered.
        "cancel_question": _cancel_question(counts.get(DeliveryStatus.QUEUED))
        if phase.cancellable
        else "",
        # What the Retry form shows ticked (the person's own ticks after a refused retry).
        "retry_choice": RetryChoice.shown(request.GET),
        # Shown beside "Retry" when unknown deliveries may reach their numbers twice.
        "retry_warning": ""
        if to_list
        else sending.retry_warning(message, retryable[DeliveryStatus.UNKNOWN]),
        # A send to a list kept at the provider: no Retry (it sends to numbers), but why not.
        "no_retry_note": sending.no_retry_to_a_list() if to_list else "",
        "retryable": retryable,
        # The messages that retried some of its deliveries (each row names its own).
        "retries": [] if keep_rows else _retries_of(message),
        # Its time came and nothing holds it: it goes as soon as a worker starts it, and the
        # time it was scheduled for, now past, is not said as if it still waited for it.
        "due": message.status == Message.Status.SCHEDULED and phase.live,
        **sender,
    }
    if live_part:
        return render(request, "messaging/message_detail.html#live", context)
    return render(request, "messaging/message_detail.html", context)


# A routed send makes one message per account: accounts are few.
MOST_IDS = 50


def listed_ids(value: str) -> list[int]:
    """`?ids=4,5,6`: the messages one routed send made (Compose goes to them), or [] when the
    value lists none (anything but numbers is ignored, as the other filters' bad values are)."""
    return [int(part) for part in value.split(",")[:MOST_IDS] if part.strip().isdecimal()]


def mark_unusable_senders(messages) -> None:
    """Each scheduled message whose sender ID can no longer be sent from (retired, rejected...)
    gets `sender_problem`, as its own page finds it (`sender_check`): `dispatch.start` will hold
    it. One query for the page's (account, sender ID) pairs, not one a row."""
    scheduled = [m for m in messages if m.status == Message.Status.SCHEDULED and m.sender]
    problems = unusable_among((m.account, m.sender) for m in scheduled)
    now = timezone.now()
    for message in scheduled:
        message.sender_problem = problems.get((message.account_id, message.sender))
        # Its time came and went: `dispatch.start` held it rather than send it.
        message.sender_held = bool(message.scheduled_for and message.scheduled_for <= now)


def _retries_of(message: Message) -> list[int]:
    """The numbers of the messages that retried `message`'s deliveries, oldest first; read
    only for a message retried, so one never retried costs no query for them."""
    if not message.has_retries:
        return []
    return list(message.retries.order_by("pk").values_list("pk", flat=True)[:20])


def sender_check(message: Message, left: dict[str, int], *, facts_drawn: bool) -> dict:
    """Whether the message's sender ID can still be sent from, asked only where it matters (a
    poll of a send under way costs no query for it): a scheduled message that would not go
    (`dispatch.start` holds it), a retry that must choose another (`retry_senders`), the facts
    card that names the sender. `left`: what is left to retry, by status (`left_to_retry`)."""
    retryable = any(left.values())
    scheduled = message.status == Message.Status.SCHEDULED
    if not message.sender or not (facts_drawn or retryable or scheduled):
        return {}
    problem = unusable(message.account, message.sender)
    if problem is None:
        return {}
    return {
        "sender_problem": problem,
        # Its time came and went: `dispatch.start` held it (message.held_reason, in English).
        "sender_held": bool(message.scheduled_for and message.scheduled_for <= timezone.now()),
        # Nothing chosen for the person (the retired one is not offered): the select opens on
        # "Choose a sender ID", and a retry without a choice is refused, saying to choose.
        "retry_senders": sender_choices(message.account, problem.value) if retryable else None,
    }


def _says_why_submitted_stays(capabilities, phase, counts: Progress) -> bool:
    """Whether the page explains that a provider without delivery reports leaves deliveries
    "submitted": while some may be handed over or are, not once the message is over with none
    handed over (every one unknown, failed or skipped), where it would explain nothing."""
    if capabilities.delivery_reports:
        return False
    still_to_send = phase.live or phase.label == "scheduled"
    return still_to_send or bool(counts.get(DeliveryStatus.SUBMITTED))


def _cancel_question(queued: int) -> str:
    return ngettext(
        "Withdraw the %(count)s recipient not yet sent?",
        "Withdraw the %(count)s recipients not yet sent?",
        queued,
    ) % {"count": grouped(queued)}


def _delivery_rows(message: Message, status: str, request: HttpRequest) -> DeliveryPage:
    """One page of the recipients table, each row's status word and time written once here
    rather than by a filter per row (a translation lookup and a date format each)."""
    deliveries = Delivery.objects.filter(message=message)
    if status:
        deliveries = deliveries.filter(status=status)
    page = delivery_page(deliveries, request)
    words: dict[str, str] = {}
    for delivery in page.items:
        delivery.failed_over_to = None  # set by failed_over() for a route's other accounts
        delivery.status_word = words.get(delivery.status) or words.setdefault(
            delivery.status, str(word(delivery.status))
        )
        updated = delivery.final_at or delivery.submitted_at or delivery.queued_at
        delivery.updated = f"{localtime(updated):%Y-%m-%d %H:%M:%S}" if updated else ""
    return failed_over(message, page)


@require_POST
@permission_required("messaging.change_message", raise_exception=True)
def message_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(messages_of(request), pk=pk)
    queued = message.deliveries.filter(status=DeliveryStatus.QUEUED).exists()
    if message.status in (Message.Status.DONE, Message.Status.CANCELLED) or not queued:
        # Deliveries a worker has claimed are already on their way to the provider.
        messages.error(
            request,
            _(
                "Message #%(number)s has nothing left to cancel: every recipient has already "
                "been processed."
            )
            % {"number": message.pk},
        )
    else:
        cancelled = message.cancel(request.user)
        audit.record("message_cancelled", message, withdrawn=cancelled)
        messages.success(
            request,
            ngettext(
                "Message #%(number)s cancelled: %(count)s recipient not yet sent was withdrawn.",
                "Message #%(number)s cancelled: %(count)s recipients not yet sent were withdrawn.",
                cancelled,
            )
            % {"number": message.pk, "count": f"{cancelled:,}"},
        )
    return redirect(message)


@dataclass(frozen=True)
class RetryChoice:
    """The statuses the Retry form shows ticked. On a page of its own: the failed deliveries
    (the usual retry), never the unknown ones. After a refused retry: those the person had
    ticked, brought back in the page's address (`?retry=…`), so that the refusal's advice
    applies to the form as they left it. Only ticks on the page: the retry takes what is
    posted, and checks all of it again. The consent to duplicates is never brought back
    ticked (nor by an address): it is given on the page, each time."""

    statuses: frozenset[str]

    DEFAULT = (DeliveryStatus.FAILED,)
    KEPT = "retry"  # the address's key for the kept statuses (present, maybe empty, when kept)

    @classmethod
    def of(cls, data, key: str) -> RetryChoice:
        """The retryable statuses in `data` (a QueryDict) under `key`."""
        return cls(frozenset(data.getlist(key)) & frozenset(sending.RETRYABLE))

    @classmethod
    def shown(cls, query) -> RetryChoice:
        if cls.KEPT not in query:
            return cls(frozenset(cls.DEFAULT))
        return cls.of(query, cls.KEPT)

    def kept_at(self, message: Message) -> str:
        """The message page with this choice ticked."""
        query = urlencode({self.KEPT: sorted(self.statuses) or [""]}, doseq=True)
        return f"{message.get_absolute_url()}?{query}"


def _retry_button() -> str:
    return _("Retry as a new message")  # the button's own words, so the advice quotes it


def _choose_what_to_retry(offered: list[str]) -> str:
    """Asked when Retry is pressed with no box ticked: the boxes the page has, by their words."""
    if len(offered) == 1:
        return _("Choose which deliveries to retry: tick “%(status)s”, then press “%(retry)s”.") % {
            "status": word(offered[0]),
            "retry": _retry_button(),
        }
    return _(
        "Choose which deliveries to retry: tick “%(failed)s”, “%(unknown)s” or both, then press "
        "“%(retry)s”."
    ) % {
        "failed": word(DeliveryStatus.FAILED),
        "unknown": word(DeliveryStatus.UNKNOWN),
        "retry": _retry_button(),
    }


def _accept_to_send_anyway(at_risk: int) -> str:
    """What to do on the page to retry unknown deliveries that may arrive twice. A plural on
    the `at_risk` recipients the warning counts: English says "them" for any number, Arabic
    "him" for one, "the two of them" for two."""
    return ngettext(
        "To send to them anyway, tick “%(accept)s” and press “%(retry)s” again.",
        "To send to them anyway, tick “%(accept)s” and press “%(retry)s” again.",
        at_risk,
    ) % {
        "accept": _("accept that some may get it twice"),
        "retry": _retry_button(),
    }


@require_POST
@permission_required("messaging.add_message", raise_exception=True)
def message_retry(request: HttpRequest, pk: int) -> HttpResponse:
    """A new message to the chosen failed or unknown deliveries (sending.retry, the one send
    path, with its checks). Refused, it goes back to the message page with the person's ticks
    kept and the refusal saying what to do with them."""
    message = get_object_or_404(messages_of(request).select_related("account"), pk=pk)
    chosen = RetryChoice.of(request.POST, "status")
    if not chosen.statuses:
        counts = progress(message.pk)
        offered = [status for status in sending.RETRYABLE if counts.get(status)]
        if offered:
            messages.warning(request, _choose_what_to_retry(offered))
            return redirect(chosen.kept_at(message))
    try:
        retry = sending.retry(
            message,
            request.POST.getlist("status"),
            request.user,
            accept_duplicates=request.POST.get("accept_duplicates") == "1",
            # Offered only when the message's own sender can no longer be sent from.
            sender=request.POST.get("sender"),
        )
    except sending.AlreadyRetried as exc:
        # A second press (a double click, the page open since): the retry that took them.
        messages.info(request, str(exc))
        return redirect(exc.retry)
    except sending.DuplicatesPossible as exc:
        messages.warning(request, f"{exc} {_accept_to_send_anyway(exc.at_risk)}")
        return redirect(chosen.kept_at(message))
    except sending.SendRefused as exc:
        messages.error(request, str(exc))
        return redirect(chosen.kept_at(message))
    audit.record("message_retried", message, new_message=retry.pk, recipients=retry.recipient_count)
    messages.success(
        request,
        ngettext(
            "Message #%(number)s sends again to %(count)s recipient.",
            "Message #%(number)s sends again to %(count)s recipients.",
            retry.recipient_count,
        )
        % {"number": retry.pk, "count": f"{retry.recipient_count:,}"},
    )
    return redirect(retry)


MINUTE_INPUT = "%Y-%m-%dT%H:%M"


class RescheduleForm(forms.Form):
    body = forms.CharField(
        label=gettext_lazy("Text"), widget=forms.Textarea(attrs={"rows": 4, "dir": "auto"})
    )
    # Checked by the send service (sending.check_sender), which says why a sender is refused.
    sender = forms.CharField(
        label=gettext_lazy("Sender ID"), required=False, max_length=20, widget=forms.Select
    )
    scheduled_for = forms.DateTimeField(
        label=gettext_lazy("Scheduled for"),
        # To the minute, as Compose asks for it (seconds would show as a field of their own).
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=MINUTE_INPUT),
        help_text=gettext_lazy("In your time zone."),
    )

    def __init__(self, *args, message: Message, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.message = message
        account = message.account
        if not account.backend_class.capabilities.sender_per_message:
            del self.fields["sender"]  # it sends from the account's default sender
            return
        # The usable sender IDs, and the saved one, kept and marked, if it no longer is.
        choices, self.sender_problem = sender_choices_keeping(account, message.sender)
        options = []
        # The provider's default stays offered to a message saved with it, so Save keeps it.
        if choices["offers_provider_default"] or not message.sender:
            options.append(("", _("The provider's default sender")))
        for sender in choices["senders"]:
            if isinstance(sender, dict):  # the saved one (`sender_choices_keeping`)
                why = _("(%(why)s — choose another)") % {"why": sender["unusable"].mark}
                options.append((sender["value"], f"{sender['value']} {why}"))
            else:
                default = f" {_('(default)')}" if sender.is_default else ""
                options.append((sender.value, f"{sender.value}{default}"))
        self.fields["sender"].widget.choices = options

    def shows_unusable_sender(self) -> bool:
        """The sender the message was saved with can no longer be sent from, and is still the
        one chosen: the page says so before Save is pressed."""
        problem = getattr(self, "sender_problem", None)
        if not problem or self.errors.get("sender"):
            return False  # the error under the select says it
        return self["sender"].value() == problem.value

    def clean_scheduled_for(self):
        when = self.cleaned_data["scheduled_for"]
        saved = self.message.scheduled_for
        if saved and when == saved.replace(second=0, microsecond=0):
            return saved  # the minute shown, unchanged: the time stays to the second
        if when <= timezone.now():
            raise forms.ValidationError(_("Choose a time in the future."))
        return when


PART_COST_SECONDS = 30  # how long the live preview reuses what one part to everyone costs


def edit_preview(message: Message, text: str) -> dict:
    """The live preview of a scheduled message's new text: Compose's account of the text
    (`text_preview`: alphabet, parts, costly characters), and what the change does to the cost
    of sending it to the message's recipients (`sending.text_change`)."""
    context = text_preview(text, message.message_type, message.binary_udh, message.account)
    context["gsm_url"] = reverse("messaging:message_edit", args=[message.pk])
    context["gsm_form"] = "#edit-form"
    if context["too_long"] or context["problem"]:
        return context
    # A keystroke's preview reads the recipients' prices once per PART_COST_SECONDS, not each
    # time: they do not change while the message waits (its recipients are fixed).
    per_part = cache.get_or_set(
        f"messaging:part-cost:{message.pk}",
        lambda: sending.part_cost(message),
        PART_COST_SECONDS,
    )
    context["change"] = sending.text_change(message, context["analysis"], per_part)
    return context


def edit_page(request: HttpRequest, message: Message, form: RescheduleForm, **extra):
    text = form["body"].value() or ""
    context = {"message": message, "form": form, "preview": edit_preview(message, text), **extra}
    return render(request, "messaging/message_edit.html", context)


def changed_since_note(posted: str) -> str:
    """Why the confirmation is asked for again: the text changed after the last one."""
    if posted:
        return _("The text changed after you reviewed it: check the new figures and confirm again.")
    return ""


@permission_required("messaging.change_message", raise_exception=True)
def message_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a scheduled message's text and time: the page, its live preview (POST `action`
    "preview", htmx), "Use standard characters" (`gsm`), and Save (`save`), which asks to
    confirm a text that makes the message cost more before it saves it (sending.CostRises)."""
    message = get_object_or_404(messages_of(request).select_related("account"), pk=pk)
    if not message.is_editable:
        messages.error(request, _("Only a message that is still scheduled can be changed."))
        return redirect(message)
    action = request.POST.get("action", "save")
    if request.method == "POST" and action == "preview" and request.htmx:
        preview = edit_preview(message, request.POST.get("body", ""))
        return render(request, "messaging/_edit_preview_live.html", {"message": message, **preview})
    if request.method == "POST" and action == "gsm":
        return use_standard_characters(request, message)
    initial = {
        "body": message.body,
        "sender": message.sender,
        "scheduled_for": message.scheduled_for,
    }
    form = RescheduleForm(request.POST or None, initial=initial, message=message)
    if request.method == "POST" and action == "save" and form.is_valid():
        posted = request.POST.get(CONFIRMATION_FIELD, "")
        try:
            sending.reschedule(
                message,
                body=form.cleaned_data["body"],
                sender=form.cleaned_data.get("sender"),
                scheduled_for=form.cleaned_data["scheduled_for"],
                accept=posted,
                user=request.user,
            )
        except sending.CostRises as exc:
            note = changed_since_note(posted)
            return edit_page(request, message, form, change=exc.change, confirm_note=note)
        except sending.SendRefused as exc:
            # A sender refused is said under its select, once (not above the form as well).
            form.add_error("sender" if exc.code == "sender_unusable" else None, str(exc))
        else:
            audit.record("message_changed", message, changes=audit.diff(initial, form.cleaned_data))
            if is_due(message):  # kept at its time, which came while it was held
                messages.success(
                    request,
                    _("The message was changed: its time has come, so it goes in a moment."),
                )
            else:
                messages.success(request, _("The scheduled message was changed."))
            return redirect(message)
    return edit_page(request, message, form)


CONFIRMATION_FIELD = "accept_change"  # the dearer change's token, posted by "Save anyway"


def use_standard_characters(request: HttpRequest, message: Message) -> HttpResponse:
    """The text with look-alike standard characters in place of costly ones, as on Compose."""
    data = request.POST.copy()
    data["body"] = gsm_equivalent(data.get("body", ""))
    form = RescheduleForm(data, message=message)
    if request.htmx:
        response = render(request, "messaging/message_edit.html#text-field", {"form": form})
        response["HX-Trigger-After-Settle"] = "compose-changed"
        return response
    return edit_page(request, message, form)
