"""The inbox: conversations, newest activity first, searchable by number or contact name."""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from smsportal.contacts.scope import contacts_of

from ..conversations import mark_all_read, name_contacts, threads
from ..models import InboundMessage
from ..scope import conversations_of


@permission_required("messaging.view_inboundmessage", raise_exception=True)
def inbox(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    cursor = request.GET.get("after", "")
    mine = contacts_of(request)
    rows, next_cursor = threads(
        query, cursor, conversations=conversations_of(request), contacts=mine
    )
    contacts = name_contacts((row.phone for row in rows), mine)
    for row in rows:
        row.contact = contacts.get(row.phone)
    params = {"q": query} if query else {}
    context = {
        "conversations": rows,
        "q": query,
        "paged": bool(cursor),
        "first_page": "?" + urlencode(params) if params else "?",
        "next_page": "?" + urlencode({**params, "after": next_cursor}) if next_cursor else "",
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "messaging/inbox.html#inbox-rows", context)
    return render(request, "messaging/inbox.html", context)


@require_POST
@permission_required("messaging.change_inboundmessage", raise_exception=True)
def mark_read(request: HttpRequest) -> HttpResponse:
    mark_all_read(conversations_of(request))
    return redirect("messaging:inbox")


def unread_count(request=None) -> int:
    """Unread SMS in the threads `request`'s user may see (all, without a request)."""
    if request is None:
        return InboundMessage.objects.filter(read_at__isnull=True).count()
    return conversations_of(request).filter(unread__gt=0).aggregate(n=Sum("unread"))["n"] or 0
