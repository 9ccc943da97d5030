"""`{% progress_bar progress %}`: a message's deliveries by status as one stacked bar, a
segment per status in its colour (messaging/progress.py's `Progress.bar`).

Built in Python rather than a template included per row: the messages list draws fifty bars
of up to a dozen segments, and the message page one on every poll; as an included template the
bars were most of the list's rendering (bench/message_pages.py).

{% load message_progress %}
{% progress_bar message.progress %}

The message page's counts by status (`{% status_counts progress %}`) and its recipients'
filters (`{% status_filters progress status %}`) are built the same way: they come with every
poll of the live part while a send runs, each word translated once per answer.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from smsportal.core.words import word
from smsportal.sms.status import DeliveryStatus

from ..progress import grouped

register = template.Library()

HUNDREDTH = Decimal("0.01")


@register.simple_tag(takes_context=True)
def progress_bar(context, progress) -> SafeString:
    segments = progress.bar
    total = progress.total
    parts = []
    label = []
    for seg in segments:
        count, css = seg["count"], seg["css"]
        status = _word(context, seg["status"])
        label.append(f"{count} {status}")
        parts.append(
            f'<div class="progress" role="progressbar" style="width: {_width(seg["percent"])}%" '
            f'aria-valuenow="{count}" aria-valuemin="0" aria-valuemax="{total}" '
            f'title="{count} {status}"><div class="progress-bar bg-{css}'
            f'{" text-dark" if css == "light" else ""}">'
            f"{count if seg['percent'] > 8 else ''}</div></div>"
        )
    comma = context.render_context.get(_COMMA)
    if comma is None:
        comma = context.render_context[_COMMA] = escape(_(", "))
    return mark_safe(  # noqa: S308  (counts are ints, colours ours, every word escaped above)
        '<div class="progress-stacked" style="height: 1.1rem" role="img" '
        f'aria-label="{comma.join(label)}">{"".join(parts)}</div>'
    )


@register.simple_tag(takes_context=True)
def progress_card(context, progress, phase) -> SafeString:
    """The message page's progress: its status, how many recipients are processed, the bar and
    the counts (`#progress`), drawn on every poll of the live part while a send runs. Built
    here rather than as an included template: its filters and plural sentence were a fifth of
    a poll's rendering."""
    total = progress.recipients
    processed = ngettext(
        "%(processed)s of %(total)s recipient processed (%(percent)s%%)",
        "%(processed)s of %(total)s recipients processed (%(percent)s%%)",
        total,
    ) % {
        "processed": grouped(progress.processed),
        "total": grouped(total),
        "percent": progress.percent_processed,
    }
    label = escape(phase.label)
    return mark_safe(  # noqa: S308  (the label and every word escaped, numbers formatted)
        f'<div id="progress" data-status="{label}">\n'
        '  <div class="d-flex flex-wrap justify-content-between gap-2 small mb-1">\n'
        f"    <span>{escape(_('Status:'))} "
        f'<strong id="message-status">{_word(context, phase.label)}</strong></span>\n'
        f'    <span id="processed">{processed}</span>\n'
        "  </div>\n"
        f"  {progress_bar(context, progress)}\n"
        f"  {status_counts(context, progress)}\n"
        f"{_set_aside(progress.set_aside)}"
        "</div>\n"
    )


def _set_aside(count: int) -> str:
    """The rows skipped when the message was made, said apart from its recipients: the bar and
    the counts show them as skipped, and the recipients table lists them with the reason."""
    if not count:
        return ""
    said = ngettext(
        "%(count)s more number was skipped when the message was made; the table below says why.",
        "%(count)s more numbers were skipped when the message was made; the table below says why.",
        count,
    ) % {"count": grouped(count)}
    return f'  <p class="small text-body-secondary mt-2 mb-0" id="set-aside">{escape(said)}</p>\n'


# The message page's counts: these always, the rarer ones only when some delivery has them.
ALWAYS_COUNTED = [
    DeliveryStatus.QUEUED,
    DeliveryStatus.SENDING,
    DeliveryStatus.SUBMITTED,
    DeliveryStatus.DELIVERED,
    DeliveryStatus.FAILED,
    DeliveryStatus.UNKNOWN,
    DeliveryStatus.SKIPPED,
]
COUNTED_WHEN_SOME = [
    DeliveryStatus.UNDELIVERED,
    DeliveryStatus.EXPIRED,
    DeliveryStatus.REJECTED,
    DeliveryStatus.CANCELLED,
]


@register.simple_tag(takes_context=True)
def status_counts(context, progress) -> SafeString:
    """The progress card's count of each status, `data-count` naming the status."""
    counts = progress.counts
    shown = ALWAYS_COUNTED + [s for s in COUNTED_WHEN_SOME if counts.get(s)]
    cells = "".join(
        f'<div class="col"><span class="text-body-secondary">{_word(context, status)}</span> '
        f'<strong data-count="{status}">{grouped(counts.get(status, 0))}</strong></div>'
        for status in shown
    )
    return mark_safe(  # noqa: S308  (statuses are ours, numbers formatted, words escaped)
        '<div class="row row-cols-2 row-cols-md-4 row-cols-xl-6 g-2 mt-2 small" id="counts">'
        f"{cells}</div>"
    )


@register.simple_tag(takes_context=True)
def status_filters(context, progress, chosen: str) -> SafeString:
    """A link per status some recipient has, with its count, showing only those recipients.

    A poll of the live part still on its way when a filter is chosen is dropped (hx-sync
    replace): its answer, for the filter before, would keep the new filter's table."""
    links = []
    for seg in progress.bar:
        status = seg["status"]
        active = " active" if status == chosen else ""
        links.append(
            f'<li class="nav-item"><a class="nav-link{active}" href="?status={status}" '
            f'hx-get="?status={status}" hx-target="#message-live" hx-swap="outerHTML" '
            f'hx-sync="closest #message-live:replace" hx-push-url="true">'
            f'{_word(context, status)} <span class="badge text-bg-light" '
            f'data-filter-count="{status}">{grouped(seg["count"])}</span></a></li>'
        )
    return mark_safe("".join(links))  # noqa: S308  (as status_counts)


def _word(context, status: str) -> str:
    """A status's word, escaped, translated once per answer whatever the bars and counts
    (gettext was most of a bar's cost)."""
    words = context.render_context.setdefault(_WORDS, {})
    found = words.get(status)
    if found is None:
        found = words[status] = escape(word(status))
    return found


_WORDS = "message_progress.words"
_COMMA = "message_progress.comma"


def _width(percent: float) -> str:
    """The segment's width with two decimals and a point whatever the language (CSS reads it),
    rounded half up as `floatformat:"2u"` did."""
    return str(Decimal(repr(percent)).quantize(HUNDREDTH, rounding=ROUND_HALF_UP))
