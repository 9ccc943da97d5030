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

from smsportal.departments.scope import visible
from smsportal.senders.models import SenderID
from smsportal.senders.uses import SHOWN, Link, Use

from .models import Message
from .progress import grouped


def scheduled_messages_using(sender: SenderID, request: HttpRequest) -> list[Use]:
    """Two queries: how many scheduled messages of the account go from `sender` (every
    department's: retiring holds them all), and the first few the person may open."""
    rows = Message.objects.filter(
        account_id=sender.account_id, sender=sender.value, status=Message.Status.SCHEDULED
    )
    count = rows.count()
    if not count:
        return []
    shown = list(
        visible(rows, request).order_by("scheduled_for", "id").values_list("pk", flat=True)[:SHOWN]
    )
    links = [Link(f"#{pk}", reverse("messaging:message_detail", args=[pk])) for pk in shown]
    more = None
    if count > len(shown):
        # The messages page filters by status and account, not by sender ID: its scheduled
        # messages of this account hold the rest.
        query = urlencode({"status": Message.Status.SCHEDULED, "account": sender.account_id})
        more = Link(
            _("and %(count)s more among the account's scheduled messages")
            % {"count": grouped(count - len(shown))},
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
    return [Use(summary, links, more, outcome)]
