"""One conversation: its SMS both ways, oldest first, and a reply box with the live preview.

One view serves the page and its thread fragment (htmx refreshes the statuses and pages back);
the reply posts to its own view, which answers the thread and a fresh form to an htmx request,
or redirects back to the page without JavaScript.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from smsportal.contacts.scope import contacts_of
from smsportal.contacts.selectors import opted_out
from smsportal.departments.forms import DepartmentField
from smsportal.routing.prices import PriceTable
from smsportal.sms.phones import parse_phone

from .. import idempotency
from ..conversations import mark_read, name_contacts, record_reply, thread
from ..inbound import OPTED_OUT, is_opt_out_keyword, keyword_of, opt_in_keywords
from ..models import Conversation
from ..replies import send_to_one
from ..scope import conversations_of
from ..sending import SendRefused, analyse_for

REPLY_MAX_CHARS = 1_600


class ReplyForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Reply"),
        max_length=REPLY_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"}),
        strip=False,
    )
    # One-time token: a double click sends one reply. The browser posts it back, so it becomes
    # a key only under the person's prefix (messaging/idempotency.py); a tampered one, fresh.
    token = forms.CharField(widget=forms.HiddenInput, required=False)
    # Whose reply it is in a thread nobody has answered yet (a number no department wrote to):
    # a select if the user has several departments, fixed if one, as on compose. The first
    # reply gives the thread to it; a thread with a department is answered as its department.
    department = DepartmentField(
        help_text=gettext_lazy("The message counts against this department's quota.")
    )

    def __init__(self, *args, user, conversation: Conversation, **kwargs):
        super().__init__(*args, **kwargs)
        if conversation.department_id is not None:
            del self.fields["department"]
        else:
            self.fields["department"].limit_to(user)

    def department_for(self, conversation: Conversation):
        """The department the (valid) reply is sent as."""
        return conversation.department or self.cleaned_data["department"]

    def clean_token(self) -> str:
        return idempotency.clean_token(self.cleaned_data.get("token"))

    def clean_text(self) -> str:
        text = self.cleaned_data["text"]
        if not text.strip():
            raise forms.ValidationError(_("Write the reply first."))
        return text


def _fresh_form(user, conversation: Conversation) -> ReplyForm:
    return ReplyForm(
        initial={"token": idempotency.new_token()}, user=user, conversation=conversation
    )


def _explain(items) -> None:
    """What an incoming STOP or START did (inbound.receive acted on it when it arrived)."""
    start = opt_in_keywords()
    for item in items:
        item_keyword = keyword_of(item.text) if item.incoming else ""
        item.effect = (
            OPTED_OUT
            if is_opt_out_keyword(item_keyword)
            else "opted-in"
            if item_keyword in start
            else ""
        )


def thread_context(conversation: Conversation, before_text: str = "", contacts=None) -> dict:
    before = parse_datetime(before_text) if before_text else None
    items, earlier = thread(conversation, before)
    _explain(items)
    # `contacts`: those the person may see (another department's contact is not named).
    contact = name_contacts([conversation.phone], contacts).get(conversation.phone)

    return {
        "opted_out": bool(opted_out([conversation.phone])),
        "conversation": conversation,
        "items": items,
        "earlier": items[0].at.isoformat() if earlier and items else "",
        "paged": before is not None,
        "contact": contact,
    }


@permission_required("messaging.view_inboundmessage", raise_exception=True)
def conversation(request: HttpRequest, pk: int) -> HttpResponse:
    convo = get_object_or_404(conversations_of(request).select_related("account"), pk=pk)
    context = thread_context(convo, request.GET.get("before", ""), contacts_of(request))
    if request.htmx and not request.htmx.boosted:
        return render(request, "messaging/conversation.html#thread", context)
    if convo.unread and request.user.has_perm("messaging.change_inboundmessage"):
        mark_read(convo)
    context["form"] = _fresh_form(request.user, convo)
    context["preview"] = None
    return render(request, "messaging/conversation.html", context)


def reply_preview(convo: Conversation, text: str) -> dict:
    analysis = analyse_for(convo.account, text)
    return {
        "analysis": analysis,
        "too_many": analysis.segments > convo.account.max_parts,
        "account": convo.account,
        "cost": PriceTable.of(convo.account).price_of(convo.phone) * analysis.segments,
    }


@require_POST
@permission_required("messaging.add_message", raise_exception=True)
def conversation_reply(request: HttpRequest, pk: int) -> HttpResponse:
    convo = get_object_or_404(conversations_of(request).select_related("account"), pk=pk)
    form = ReplyForm(request.POST, user=request.user, conversation=convo)
    text = request.POST.get("text", "")[:REPLY_MAX_CHARS]
    if request.POST.get("action") == "preview":
        return render(
            request,
            "messaging/conversation.html#reply-preview",
            # The errors of the last send described a text no longer in the box: withdrawn.
            {"preview": reply_preview(convo, text) if text else None, "preview_oob": True},
        )
    if form.is_valid():
        department = form.department_for(convo)
        try:
            message, created = send_to_one(
                convo.account,
                convo.phone,
                form.cleaned_data["text"],
                user=request.user,
                key=idempotency.form_key(request.user, form.cleaned_data["token"]),
                department=department,
            )
        except SendRefused as exc:
            form.add_error(None, str(exc))
        else:
            if created:
                record_reply(convo, message.body)
                if convo.department_id is None:
                    # The first reply gives the thread to the replier's department.
                    Conversation.objects.filter(pk=convo.pk, department__isnull=True).update(
                        department=department
                    )
                    convo.refresh_from_db(fields=["department"])
            if not request.htmx:
                messages.success(request, _("Reply handed to the send queue."))
                return redirect(convo)
            form = _fresh_form(request.user, convo)
    context = {
        **thread_context(convo, contacts=contacts_of(request)),
        "form": form,
        "preview": reply_preview(convo, text) if text and form.errors else None,
    }
    if request.htmx:
        return _body_and_counts(request, convo, context)
    return render(request, "messaging/conversation.html", context, status=400)


def _body_and_counts(request: HttpRequest, convo: Conversation, context: dict) -> HttpResponse:
    """The thread and form in place, and the header's counts out of band: a sent reply is one
    more reply there (record_reply counted it in the database, not on `convo`)."""
    convo.refresh_from_db(fields=["incoming", "replies"])
    body = render(request, "messaging/conversation.html#conversation-body", context)
    counts = render(
        request, "messaging/conversation.html#conversation-counts", {**context, "counts_oob": True}
    )
    body.content += counts.content
    return body


@permission_required("messaging.view_inboundmessage", raise_exception=True)
def contact_conversations(request: HttpRequest, phone: str) -> HttpResponse:
    """The conversations of one number (a contact's page loads this), newest first, each with
    its last few SMS."""
    parsed = parse_phone(phone, settings.PHONE_DEFAULT_REGION)
    number = parsed.e164 if parsed.valid else phone[:32]
    rows = list(
        conversations_of(request)
        .filter(phone=number)
        .select_related("account")
        .order_by("-last_at")
    )
    threads = []
    for convo in rows[:5]:
        items, earlier = thread(convo, limit=5)
        threads.append({"conversation": convo, "items": items, "earlier": earlier})
    return render(
        request,
        "messaging/_contact_conversations.html",
        {"threads": threads, "phone": number, "more": len(rows) > 5},
    )
