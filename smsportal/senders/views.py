from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from smsportal.providers.backends.base import ProviderError
from smsportal.providers.models import ProviderAccount

from . import services
from .forms import SenderIDForm
from .models import SenderID, SenderStatus
from .selectors import sender_choices
from .uses import uses_of


def _list_url(account_id: int | None = None) -> str:
    url = reverse("senders:list")
    return f"{url}?account={account_id}" if account_id else url


def _selected_account(request: HttpRequest) -> ProviderAccount | None:
    account_id = request.GET.get("account", "")
    if not account_id.isdigit():
        return None
    return ProviderAccount.objects.filter(pk=account_id).first()


@permission_required("senders.view_senderid", raise_exception=True)
def sender_list(request: HttpRequest) -> HttpResponse:
    """Every sender ID, or one account's; the table alone for an htmx filter change."""
    account = _selected_account(request)
    senders = SenderID.objects.select_related("account")
    if account:
        senders = senders.filter(account=account)
    accounts = list(ProviderAccount.objects.all())
    syncable = [a for a in accounts if a.is_active and a.backend_class.capabilities.sender_ids]
    context = {
        "senders": senders,
        "accounts": accounts,
        "syncable": syncable,
        "selected": account,
    }
    template = "senders/sender_list.html"
    if request.htmx:
        template += "#sender-table"
    return render(request, template, context)


@permission_required("senders.add_senderid", raise_exception=True)
def sender_create(request: HttpRequest) -> HttpResponse:
    initial = {}
    if (account := _selected_account(request)) is not None:
        initial["account"] = account
    form = SenderIDForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        sender = form.save()
        messages.success(
            request,
            _("Sender ID “%(sender)s” added to %(account)s.")
            % {"sender": sender, "account": sender.account},
        )
        return redirect(_list_url(sender.account_id))
    return render(request, "senders/sender_form.html", {"form": form})


@permission_required("senders.change_senderid", raise_exception=True)
def sender_edit(request: HttpRequest, pk: int) -> HttpResponse:
    sender = get_object_or_404(SenderID.objects.select_related("account"), pk=pk)
    form = SenderIDForm(request.POST or None, instance=sender)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Sender ID “%(sender)s” saved.") % {"sender": sender})
        return redirect(_list_url(sender.account_id))
    return render(request, "senders/sender_form.html", {"form": form, "sender": sender})


@require_POST
@permission_required("senders.change_senderid", raise_exception=True)
def sender_set_default(request: HttpRequest, pk: int) -> HttpResponse:
    sender = get_object_or_404(SenderID.objects.select_related("account"), pk=pk)
    try:
        services.set_default_sender(sender)
    except ProviderError as error:
        messages.error(
            request,
            _("%(account)s did not accept the new default: %(error)s")
            % {"account": sender.account, "error": error},
        )
    except ValueError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("“%(sender)s” is now the default sender of %(account)s.")
            % {"sender": sender, "account": sender.account},
        )
    return redirect(_list_url(sender.account_id))


@permission_required("senders.change_senderid", raise_exception=True)
def sender_retire(request: HttpRequest, pk: int) -> HttpResponse:
    """Retire asks first, on a page of its own: what still uses the sender ID on its account
    (scheduled messages, recurring sends, routing: `uses.uses_of`, found by the apps that hold
    them) and what retiring does to them; Retire posts back here, Keep it goes back."""
    sender = get_object_or_404(SenderID.objects.select_related("account"), pk=pk)
    if sender.status == SenderStatus.RETIRED:
        messages.info(request, _("“%(sender)s” is already retired.") % {"sender": sender})
        return redirect(_list_url(sender.account_id))
    if request.method != "POST":
        context = {
            "sender": sender,
            "uses": uses_of(sender, request),
            "back": _list_url(sender.account_id),
        }
        return render(request, "senders/sender_retire.html", context)
    services.retire_sender(sender)
    messages.success(
        request, _("“%(sender)s” is retired; it stays in the history.") % {"sender": sender}
    )
    return redirect(_list_url(sender.account_id))


@require_POST
@permission_required("senders.add_senderid", raise_exception=True)
def sender_sync(request: HttpRequest, account_pk: int) -> HttpResponse:
    account = get_object_or_404(ProviderAccount, pk=account_pk)
    try:
        result = SenderID.objects.sync(account)
    except ProviderError as error:
        messages.error(
            request,
            _("Could not fetch the sender IDs of %(account)s: %(error)s")
            % {"account": account, "error": error},
        )
    else:
        messages.success(
            request,
            _("Sender IDs of %(account)s synced: %(summary)s.")
            % {"account": account, "summary": result.summary()},
        )
    return redirect(_list_url(account.pk))


@permission_required("senders.view_senderid", raise_exception=True)
def sender_options(request: HttpRequest) -> HttpResponse:
    """`<option>`s of an account's usable sender IDs, for the compose page's select
    (`hx-get="/senders/options/?account=ID"`), with the line under the select that says why
    there is no choice, if there is none. An unknown account gives an empty choice."""
    account = _selected_account(request)
    context = sender_choices(account)
    context["automatic"] = request.GET.get("account") == "auto"
    if context["automatic"]:  # routing maps the name onto each account's own (smsportal.routing)
        values = SenderID.objects.usable().order_by("value").values_list("value", flat=True)
        context["senders"] = [{"value": value} for value in dict.fromkeys(values)]
    return render(request, "senders/_options_response.html", context)
