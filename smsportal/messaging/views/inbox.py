"""The inbox: incoming SMS, newest first, with search and a reply that opens compose."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from smsportal.contacts.models import Contact
from smsportal.sms.normalise import fold

from ..inbound import keyword_of
from ..models import InboundMessage

PAGE_SIZE = 50


@permission_required("messaging.view_inboundmessage", raise_exception=True)
def inbox(request: HttpRequest) -> HttpResponse:
    rows = InboundMessage.objects.select_related("account")
    query = request.GET.get("q", "").strip()
    if query:
        rows = rows.filter(Q(sender__contains=query) | Q(text__icontains=query))
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    _link_contacts(page.object_list)
    _explain_keywords(page.object_list)
    context = {
        "page": page,
        "q": query,
        "filter_query": urlencode({"q": query}) if query else "",
    }
    # Reading marks read: the messages on this page stay highlighted as new this once, and
    # the unread count in the navigation (rendered after this) no longer counts them.
    unread = [m.pk for m in page.object_list if m.read_at is None]
    if unread:
        InboundMessage.objects.filter(pk__in=unread, read_at__isnull=True).update(
            read_at=timezone.now()
        )
    if request.htmx:
        return render(request, "messaging/_inbox_rows.html", context)
    return render(request, "messaging/inbox.html", context)


def _explain_keywords(messages) -> None:
    """What an opt-out or opt-in keyword did (inbound.receive acted on it when it arrived)."""
    stop = {fold(k) for k in settings.OPT_OUT_KEYWORDS}
    start = {fold(k) for k in settings.OPT_IN_KEYWORDS}
    for message in messages:
        keyword = keyword_of(message.text)
        message.keyword_effect = (
            "opted out" if keyword in stop else "opted in again" if keyword in start else ""
        )


def _link_contacts(messages) -> None:
    """Each message's sender as a link to the contact with that number, in one query."""
    messages = list(messages)
    contacts = dict(
        Contact.objects.filter(phone__in={m.sender for m in messages}).values_list("phone", "pk")
    )
    for message in messages:
        pk = contacts.get(message.sender)
        message.contact_url = reverse("contacts:contact_edit", args=[pk]) if pk else ""


@require_POST
@permission_required("messaging.change_inboundmessage", raise_exception=True)
def mark_read(request: HttpRequest) -> HttpResponse:
    ids = [int(i) for i in request.POST.getlist("id") if i.isdigit()]
    rows = InboundMessage.objects.filter(read_at__isnull=True)
    if ids:
        rows = rows.filter(id__in=ids)
    rows.update(read_at=timezone.now())
    return redirect("messaging:inbox")


def unread_count() -> int:
    return InboundMessage.objects.filter(read_at__isnull=True).count()
