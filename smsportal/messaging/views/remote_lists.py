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

from ..sending import SendRefused, send_to_remote_list


@require_POST
@permission_required("messaging.add_message", raise_exception=True)
def remote_list_send(request: HttpRequest, account_pk: int) -> HttpResponse:
    account = get_object_or_404(ProviderAccount, pk=account_pk)
    name, text = request.POST.get("name", ""), request.POST.get("text", "").strip()
    if not text:
        messages.error(request, _("Type the message to send to the list."))
        return redirect("contacts:remote_lists", account_pk=account.pk)
    try:
        department = chosen_department(request.user, request.POST.get("department"))
        message = send_to_remote_list(account, name, text, request.user, department)
    except (ProviderError, SendRefused) as exc:
        messages.error(request, str(exc))
        return redirect("contacts:remote_lists", account_pk=account.pk)
    messages.success(
        request,
        _("Sent to the list “%(list)s” at %(account)s.") % {"list": name, "account": account},
    )
    return redirect(message)
