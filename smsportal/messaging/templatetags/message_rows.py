"""`{% delivery_rows deliveries message %}`: the message page's recipients table body, a row per
delivery of the page (messaging/views/messages.py's `_delivery_rows` gives each its status word
and time).

Built in Python rather than as a template loop: fifty rows of a dozen lookups, filters and
conditions each were most of the message page and of every poll that draws the table again
(bench/message_pages.py); the sentences are translated once per table.
"""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from smsportal.sms.status import DeliveryStatus

register = template.Library()


@register.simple_tag
def delivery_rows(deliveries, message) -> SafeString:
    unconfirmed = None
    through = None
    retried = None
    # Each cell's label, shown above its value when a phone turns the rows into cards
    # (`table-cards`): the table head's words, translated once per table.
    label = {
        key: escape(_(words))
        for key, words in (
            ("text", "Text sent"),
            ("id", "Provider's message ID"),
            ("error", "Error"),
            ("parts", "Parts"),
            ("updated", "Updated"),
        )
    }
    rows = []
    for d in deliveries.items:
        phone = escape(d.phone)
        cells = [
            f'<tr data-phone="{phone}">',
            f'<td class="text-nowrap card-lead" dir="ltr">{phone}</td>',
        ]
        if message.personal:
            text = escape(d.text) if d.text else "—"
            cells.append(
                f'<td class="small text-break delivery-text" dir="auto" '
                f'data-label="{label["text"]}">{text}</td>'
            )
        status = (
            f'<td class="card-lead"><span class="badge text-bg-{d.status_colour}">'
            f"{escape(d.status_word)}</span>"
        )
        if not d.confirmed:
            if unconfirmed is None:
                unconfirmed = escape(_("not confirmed by the provider"))
            status += f' <small class="text-body-secondary">{unconfirmed}</small>'
        if d.failed_over_to:
            if through is None:
                through = _("through <bdi>%(account)s</bdi>, the route's next account")
            status += (
                ' <small class="text-body-secondary d-block" data-failover>'
                f"{through % {'account': escape(d.failed_over_to.name)}}</small>"
            )
        if d.retried_in_id:
            if retried is None:
                retried = _("retried in %(message)s")
            url = reverse("messaging:message_detail", args=[d.retried_in_id])
            link = f'<a href="{url}">#{d.retried_in_id}</a>'
            status += (
                f' <small class="text-body-secondary d-block" data-retried>'
                f"{retried % {'message': link}}</small>"
            )
        cells.append(status + "</td>")
        # A cell with nothing in it stays empty: a card leaves it out, label and all.
        provider_id = (
            f"<code>{escape(d.provider_message_id)}</code>" if d.provider_message_id else ""
        )
        cells.append(f'<td data-label="{label["id"]}">{provider_id}</td>')
        error = ""
        if d.error_code or d.error_text:
            code = ""
            if d.error_code and d.status != DeliveryStatus.SKIPPED:
                code = f"<code>{escape(d.error_code)}</code> "
            error = f'<small>{code}<bdi dir="auto">{escape(d.error_text)}</bdi></small>'
        cells.append(f'<td data-label="{label["error"]}">{error}</td>')
        cells.append(f'<td class="num" data-label="{label["parts"]}">{d.segments}</td>')
        cells.append(
            f'<td class="text-nowrap" data-label="{label["updated"]}"><small>{d.updated}</small>'
            "</td></tr>"
        )
        rows.append("".join(cells))
    # Every value above is escaped; the status colours and the sentences are ours.
    return mark_safe("\n".join(rows))  # noqa: S308
