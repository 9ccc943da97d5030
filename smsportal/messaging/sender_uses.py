"""The scheduled messages that would still go from a sender ID a Manager is about to retire
(registered with `senders.uses` from `MessagingConfig.ready`: senders may not import messaging).

Once it is retired they are held: they stay scheduled, unsent, until someone changes their
sender ID on their Change page."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from smsportal.departments.scope import sees_everything, visible
from smsportal.senders.models import SenderID
from smsportal.senders.uses import SHOWN, Link, Use, unseen_note

from .models import Message
from .progress import grouped


def scheduled_messages_using(sender: SenderID, request: HttpRequest) -> list[Use]:
    """Three queries at most: how many scheduled messages of the account go from `sender`
    (every department's: retiring holds them all), how many of them the person may open, and
    the first few of those."""
    rows = Message.objects.filter(
        account_id=sender.account_id, sender=sender.value, status=Message.Status.SCHEDULED
    )
    count = rows.count()
    if not count:
        return []
    theirs = visible(rows, request)
    seen = count if sees_everything(request) else theirs.count()
    shown = list(theirs.order_by("scheduled_for", "id").values_list("pk", flat=True)[:SHOWN])
    links = [Link(f"#{pk}", reverse("messaging:message_detail", args=[pk])) for pk in shown]
    more = None
    if seen > len(shown):
        # The messages page filtered as counted here: it lists every one the person may open.
        query = urlencode(
            {
                "status": Message.Status.SCHEDULED,
                "account": sender.account_id,
                "sender": sender.value,
            }
        )
        more = Link(
            _("and %(count)s more on the Messages page") % {"count": grouped(seen - len(shown))},
            f"{reverse('messaging:message_list')}?{query}",
        )
    summary = ngettext(
        "%(count)s scheduled message not yet sent",
        "%(count)s scheduled messages not yet sent",
        count,
    ) % {"count": grouped(count)}
    outcome = ngettext(
        "It waits, unsent, until its sender ID is changed.",
        "They wait, unsent, until their sender ID is changed.",
        count,
    )
    return [Use(summary, links, more, outcome, unseen_note(count - seen, seen))]
