"""The main navigation, in one place: (label, URL name, icon, permission needed or None).

A context processor resolves it per request, so a link appears only to users who may follow it
and only once the page behind it exists. A count beside a link (the inbox's unread messages) is
registered by the app that owns the page, from its `AppConfig.ready` (`register_badge`): core
imports no feature app.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

NAVIGATION = [
    (_("Dashboard"), "dashboard", "speedometer2", None),
    (_("Compose"), "messaging:compose", "pencil-square", "messaging.add_message"),
    (_("Messages"), "messaging:message_list", "send", "messaging.view_message"),
    (
        _("Templates"),
        "message_templates:list",
        "file-text",
        "message_templates.view_messagetemplate",
    ),
    (_("Recurring"), "recurring:list", "arrow-repeat", "recurring.view_recurringsend"),
    (_("Contacts"), "contacts:contact_list", "person-lines-fill", "contacts.view_contact"),
    (_("Lists"), "contacts:list_list", "collection", "contacts.view_contactlist"),
    (_("Sender IDs"), "senders:list", "tag", "senders.view_senderid"),
    (_("Credits"), "credits:overview", "wallet2", "credits.view_balancesnapshot"),
    (_("Inbox"), "messaging:inbox", "inbox", "messaging.view_inboundmessage"),
    (_("Keywords"), "keywords:list", "chat-left-dots", "keywords.view_keywordrule"),
    (_("Forwarding"), "forwarding:list", "broadcast", "forwarding.view_endpoint"),
    (_("Reports"), "reports:index", "bar-chart-line", "messaging.view_delivery"),
    (_("Accounts"), "providers:list", "hdd-network", "providers.view_provideraccount"),
    (_("Audit"), "audit:index", "journal-text", "core.view_auditentry"),
]


# URL name -> count shown beside the link (one indexed COUNT each), filled by the apps.
BADGES: dict[str, Callable[[], int]] = {}


def register_badge(url_name: str, count: Callable[[], int]) -> None:
    """Show `count()` beside the navigation link to `url_name` (called from `AppConfig.ready`)."""
    if url_name not in {name for _label, name, _icon, _permission in NAVIGATION}:
        raise ValueError(f"No navigation link to {url_name!r} to put a count beside.")
    BADGES[url_name] = count


def _current(path: str, urls: list[str]) -> str | None:
    """The one link to highlight: the longest link URL the path starts with ("/messages/compose/"
    is Compose, not Messages too), "/" only for the dashboard itself."""
    matches = [url for url in urls if (path == url if url == "/" else path.startswith(url))]
    return max(matches, key=len, default=None)


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"navigation": []}
    items = []
    for label, name, icon, permission in NAVIGATION:
        if permission and not user.has_perm(permission):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        badge = BADGES[name]() if name in BADGES else 0
        items.append({"label": label, "url": url, "icon": icon, "badge": badge})
    current = _current(request.path, [item["url"] for item in items])
    for item in items:
        item["active"] = item["url"] == current
    return {"navigation": items}
