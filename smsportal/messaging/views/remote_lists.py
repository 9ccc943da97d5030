"""Sending to a list kept at the provider (KalaSMS `sendbulk`), from the contacts app's page of
those lists: the send is messaging's, like every other."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from smsportal.departments.forms import chosen_department
from smsportal.providers.backends.base import ProviderError
from smsportal.providers.models import ProviderAccount
from smsportal.sms.status import DeliveryStatus

from .. import idempotency
from ..sending import SendRefused, send_to_remote_list


@require_POST
@permission_required("messaging.add_message", raise_exception=True)
def remote_list_send(request: HttpRequest, account_pk: int) -> HttpResponse:
    """The send of one row's form. Its one-time token (`token`, made with the page) makes a
    double click, or the form posted again from the browser's history, find the message the
    first post made instead of sending to the list again (messaging/idempotency.py)."""
    account = get_object_or_404(ProviderAccount, pk=account_pk)
    name, text = request.POST.get("name", ""), request.POST.get("text", "").strip()
    if not text:
        messages.error(request, _("Type the message to send to the list."))
        return redirect("contacts:remote_lists", account_pk=account.pk)
    token = idempotency.clean_token(request.POST.get("token"))
    try:
        department = chosen_department(request.user, request.POST.get("department"))
        message, created = send_to_remote_list(
            account,
            name,
            text,
            request.user,
            department,
            idempotency_key=idempotency.form_key(request.user, token),
        )
    except (ProviderError, SendRefused) as exc:
        messages.error(request, str(exc))
        return redirect("contacts:remote_lists", account_pk=account.pk)
    said = {"list": name, "account": account, "number": message.pk}
    if not created:
        messages.info(
            request,
            _(
                "This form was sent already, as message #%(number)s to the list “%(list)s”: "
                "it was not sent again."
            )
            % said,
        )
        return redirect(message)
    delivery = message.deliveries.get()
    if delivery.status == DeliveryStatus.FAILED:
        # Certainly not sent: the form, to send again once the reason is dealt with.
        messages.error(request, delivery.error_text)
        return redirect("contacts:remote_lists", account_pk=account.pk)
    if delivery.status == DeliveryStatus.UNKNOWN:
        messages.warning(
            request,
            _(
                "%(account)s gave no clear answer, so the portal cannot tell whether message "
                "#%(number)s went to the list “%(list)s”: it is recorded with its outcome "
                "unknown. Do not send it again before asking %(account)s whether it went: "
                "everyone on the list may get it twice."
            )
            % said,
        )
        return redirect(message)
    messages.success(request, _("Sent to the list “%(list)s” at %(account)s.") % said)
    return redirect(message)
