"""Where routing names a sender ID a Manager is about to retire (registered with `senders.uses`
from `RoutingConfig.ready`: senders may not import routing): the account's default sender ID
for routed messages, and the active routes through the account whose sender condition names it.

Routing compares sender IDs whatever their case (`routes.py`, `service.py`), so these do too.
Once it is retired, routing passes it over (`service._refusal`)."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from smsportal.core.text import grouped
from smsportal.senders.models import SenderID
from smsportal.senders.uses import SHOWN, Link, Use

from .models import AccountRouting, Route


def routing_default_using(sender: SenderID, request: HttpRequest) -> list[Use]:
    """One query: whether `sender` is its account's default sender ID for routed messages."""
    named = AccountRouting.objects.filter(
        account_id=sender.account_id, default_sender__iexact=sender.value
    ).exists()
    if not named:
        return []
    page = Link(_("Routing"), reverse("routing:index") + "#account-routing")
    return [
        Use(
            _("The account's default sender ID for routed messages"),
            [page],
            outcome=_(
                "Until another is chosen, routes pass this account over for a sender ID it "
                "does not have."
            ),
        )
    ]


def routes_using(sender: SenderID, request: HttpRequest) -> list[Use]:
    """Two queries: how many active routes through the account have `sender` as their sender
    condition, and the first few by name (routes are everyone's: no department)."""
    rows = Route.objects.filter(
        is_active=True, sender__iexact=sender.value, steps__account_id=sender.account_id
    ).distinct()
    count = rows.count()
    if not count:
        return []
    editable = request.user.has_perm("routing.change_route")
    links = [
        Link(route.name, _route_url(route) if editable else reverse("routing:index"))
        for route in rows.only("name")[:SHOWN]
    ]
    more = None
    if count > len(links):
        more = Link(
            _("and %(count)s more on the Routing page") % {"count": grouped(count - len(links))},
            reverse("routing:index"),
        )
    summary = ngettext(
        "%(count)s route whose sender condition names it",
        "%(count)s routes whose sender condition names it",
        count,
    ) % {"count": grouped(count)}
    outcome = _(
        "Messages they send through this account go from its default sender ID for routed "
        "messages instead, or pass it over if it has none."
    )
    return [Use(summary, links, more, outcome)]


def _route_url(route: Route) -> str:
    return reverse("routing:route_edit", args=[route.pk])
