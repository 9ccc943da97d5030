"""`{% progress_bar progress %}`: a message's deliveries by status as one stacked bar, a
segment per status in its colour (messaging/progress.py's `Progress.bar`).

Built in Python rather than a template included per row: the messages list draws fifty bars
of up to a dozen segments, and the message page one on every poll; as an included template the
bars were most of the list's rendering (bench/message_pages.py).

{% load message_progress %}
{% progress_bar message.progress %}
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from smsportal.core.words import word

register = template.Library()

HUNDREDTH = Decimal("0.01")


@register.simple_tag(takes_context=True)
def progress_bar(context, progress) -> SafeString:
    # Each status's word once per page (gettext is most of a bar's cost), whatever the bars.
    words = context.render_context.setdefault(_WORDS, {})
    segments = progress.bar
    total = progress.total
    parts = []
    label = []
    for seg in segments:
        count, css = seg["count"], seg["css"]
        status = words.get(seg["status"])
        if status is None:
            status = words[seg["status"]] = escape(word(seg["status"]))
        label.append(f"{count} {status}")
        parts.append(
            f'<div class="progress" role="progressbar" style="width: {_width(seg["percent"])}%" '
            f'aria-valuenow="{count}" aria-valuemin="0" aria-valuemax="{total}" '
            f'title="{count} {status}"><div class="progress-bar bg-{css}'
            f'{" text-dark" if css == "light" else ""}">'
            f"{count if seg['percent'] > 8 else ''}</div></div>"
        )
    comma = escape(_(", "))
    return mark_safe(  # noqa: S308  (counts are ints, colours ours, every word escaped above)
        '<div class="progress-stacked" style="height: 1.1rem" role="img" '
        f'aria-label="{comma.join(label)}">{"".join(parts)}</div>'
    )


_WORDS = "message_progress.words"


def _width(percent: float) -> str:
    """The segment's width with two decimals and a point whatever the language (CSS reads it),
    rounded half up as `floatformat:"2u"` did."""
    return str(Decimal(repr(percent)).quantize(HUNDREDTH, rounding=ROUND_HALF_UP))
