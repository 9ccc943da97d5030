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
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

# A link with a group sits in that group's menu; a group of one visible link is a plain link.
# Eight places across the top keep the bar on one line on a laptop.
NAVIGATION = [
    (_("Dashboard"), "dashboard", "speedometer2", None, None),
    (_("Compose"), "messaging:compose", "pencil-square", "messaging.add_message", None),
    (_("Messages"), "messaging:message_list", "send", "messaging.view_message", _("Messages")),
    (
        _("Templates"),
        "message_templates:list",
        "file-text",
        "message_templates.view_messagetemplate",
        _("Messages"),
    ),
    (
        _("Recurring"),
        "recurring:list",
        "arrow-repeat",
        "recurring.view_recurringsend",
        _("Messages"),
    ),
    (_("Inbox"), "messaging:inbox", "inbox", "messaging.view_inboundmessage", _("Inbox")),
    (_("Keywords"), "keywords:list", "chat-left-dots", "keywords.view_keywordrule", _("Inbox")),
    (_("Forwarding"), "forwarding:list", "broadcast", "forwarding.view_endpoint", _("Inbox")),
    (
        _("Contacts"),
        "contacts:contact_list",
        "person-lines-fill",
        "contacts.view_contact",
        _("Contacts"),
    ),
    (_("Lists"), "contacts:list_list", "collection", "contacts.view_contactlist", _("Contacts")),
    (_("Credits"), "credits:overview", "wallet2", "credits.view_balancesnapshot", None),
    (_("Reports"), "reports:index", "bar-chart-line", "messaging.view_delivery", None),
    (
        _("Accounts"),
        "providers:list",
        "hdd-network",
        "providers.view_provideraccount",
        _("Accounts"),
    ),
    (_("Sender IDs"), "senders:list", "tag", "senders.view_senderid", _("Accounts")),
    (_("Routing"), "routing:index", "signpost-split", "routing.view_route", _("Accounts")),
    (_("Quotas"), "quotas:list", "speedometer", "quotas.view_quota", _("Accounts")),
    (_("Audit"), "audit:index", "journal-text", "core.view_auditentry", _("Accounts")),
    (
        _("Departments"),
        "departments:list",
        "diagram-3",
        "departments.view_department",
        _("Accounts"),
    ),
]


# URL name -> count shown beside the link (one indexed COUNT each), filled by the apps.
BADGES: dict[str, Callable[[HttpRequest], int]] = {}


def register_badge(url_name: str, count: Callable[[HttpRequest], int]) -> None:
    """Show `count(request)` beside the navigation link to `url_name` (called from
    `AppConfig.ready`): what that person may see (their departments' rows)."""
    if url_name not in {entry[1] for entry in NAVIGATION}:
        raise ValueError(f"No navigation link to {url_name!r} to put a count beside.")
    BADGES[url_name] = count


def _current(path: str, urls: list[str]) -> str | None:
    """The one link to highlight: the longest link URL the path starts with ("/messages/compose/"
    is Compose, not Messages too), "/" only for the dashboard itself."""
    matches = [url for url in urls if (path == url if url == "/" else path.startswith(url))]
    return max(matches, key=len, default=None)


def navigation(request: HttpRequest) -> dict:
    """The context processor: `navigation`, worked out only when a template reads it. An htmx
    fragment (the compose preview, a send's progress polled every second) has no navigation
    bar, so it pays for none: no permission checks, no badge counts."""
    return {"navigation": SimpleLazyObject(lambda: links_for(request))}


def links_for(request: HttpRequest) -> list[dict]:
    """The links this user may follow, grouped: a dict per place in the bar, with `children`
    (the group's links) where a group has more than one. The one link for this page is
    `active`, and so is the group holding it (its bar entry names the link: "Contacts · Lists")."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    links = []
    for label, name, icon, permission, group in NAVIGATION:
        if permission and not user.has_perm(permission):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        badge = BADGES[name](request) if name in BADGES else 0
        links.append(
            {"label": label, "url": url, "icon": icon, "badge": badge, "group": group or label}
        )
    current = _current(request.path, [link["url"] for link in links])
    places: dict[str, list[dict]] = {}
    for link in links:
        link["active"] = link["url"] == current
        places.setdefault(str(link["group"]), []).append(link)
    items = []
    for group in places.values():
        if len(group) == 1:
            items.append(group[0])
            continue
        active = next((link for link in group if link["active"]), None)
        items.append(
            {
                "label": group[0]["group"],
                "url": group[0]["url"],
                "icon": group[0]["icon"],
                "badge": sum(link["badge"] for link in group),
                "active": active is not None,
                "current": active["label"]
                if active and active["label"] != group[0]["group"]
                else "",
                "children": group,
            }
        )
    return items
