"""Messages: the list with status counts, the detail with its live progress, and staff actions
(cancel, retry failed/unknown as a new message, change a scheduled message)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from smsportal.providers.models import ProviderAccount

from .. import dispatch, sending
from ..models import Delivery, Message
from ..progress import progress, progress_of
from ..status import DeliveryStatus

PAGE_SIZE = 50


@permission_required("messaging.view_message", raise_exception=True)
def message_list(request: HttpRequest) -> HttpResponse:
    rows = Message.objects.select_related("account", "created_by")
    status = request.GET.get("status", "")
    account = request.GET.get("account", "")
    if status in Message.Status.values:
        rows = rows.filter(status=status)
    if account.isdigit():
        rows = rows.filter(account_id=int(account))
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    progress_by_id = progress_of(m.pk for m in page)
    for message in page:
        message.progress = progress_by_id.get(message.pk)
    context = {
        "page": page,
        "statuses": Message.Status.choices,
        "accounts": ProviderAccount.objects.all(),
        "status": status,
        "account": account,
        "filter_query": urlencode(
            {k: v for k, v in (("status", status), ("account", account)) if v}
        ),
    }
    return render(request, "messaging/message_list.html", context)


@permission_required("messaging.view_message", raise_exception=True)
def message_detail(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(Message.objects.select_related("account", "created_by"), pk=pk)
    counts = progress(message.pk)
    context = {
        "message": message,
        "progress": counts,
        # Sent, but reports still to come: keep the page live, at a gentler pace.
        "awaiting_reports": bool(counts.counts.get(DeliveryStatus.SUBMITTED))
        and message.want_delivery_report
        and message.account.backend.capabilities.delivery_reports,
    }
    if request.htmx and request.htmx.target == "progress":
        return render(request, "messaging/_progress.html", context)
    status = request.GET.get("status", "")
    deliveries = Delivery.objects.filter(message=message).order_by("id")
    if status in DeliveryStatus.values:
        deliveries = deliveries.filter(status=status)
    context.update(
        deliveries=Paginator(deliveries, PAGE_SIZE).get_page(request.GET.get("page")),
        status=status,
        filter_query=urlencode({"status": status}) if status else "",
        capabilities=message.account.backend.capabilities,
    )
    if request.htmx and request.htmx.target == "deliveries":
        return render(request, "messaging/_deliveries.html", context)
    return render(request, "messaging/message_detail.html", context)


@require_POST
@permission_required("messaging.change_message", raise_exception=True)
def message_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(Message, pk=pk)
    if message.status in (Message.Status.DONE, Message.Status.CANCELLED):
        messages.error(request, f"Message #{message.pk} is already {message.status}.")
    else:
        cancelled = dispatch.cancel(message, request.user)
        messages.success(
            request,
            f"Message #{message.pk} cancelled: {cancelled} deliveries not yet sent were withdrawn.",
        )
    return redirect(message)


@require_POST
@permission_required("messaging.add_message", raise_exception=True)
def message_retry(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(Message.objects.select_related("account"), pk=pk)
    try:
        retry = sending.retry(message, request.POST.getlist("status"), request.user)
    except sending.SendRefused as exc:
        messages.error(request, str(exc))
        return redirect(message)
    messages.success(
        request, f"Message #{retry.pk} sends again to {retry.recipient_count} recipients."
    )
    return redirect(retry)


class RescheduleForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}))
    scheduled_for = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="In the portal's time zone.",
    )

    def clean_scheduled_for(self):
        when = self.cleaned_data["scheduled_for"]
        if when <= timezone.now():
            raise forms.ValidationError("Choose a time in the future.")
        return when


@permission_required("messaging.change_message", raise_exception=True)
def message_edit(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(Message.objects.select_related("account"), pk=pk)
    if not message.is_editable:
        messages.error(request, "Only a message that is still scheduled can be changed.")
        return redirect(message)
    initial = {"body": message.body, "scheduled_for": message.scheduled_for}
    form = RescheduleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            sending.reschedule(
                message,
                body=form.cleaned_data["body"],
                scheduled_for=form.cleaned_data["scheduled_for"],
            )
        except sending.SendRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "The scheduled message was changed.")
            return redirect(message)
    return render(request, "messaging/message_edit.html", {"message": message, "form": form})
