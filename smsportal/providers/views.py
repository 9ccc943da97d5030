from __future__ import annotations

import logging

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from smsportal.core import audit
from smsportal.core.words import listed

from .backends.base import ProviderError
from .forms import ProviderAccountForm, is_secret
from .models import ProviderAccount

log = logging.getLogger(__name__)


@permission_required("providers.view_provideraccount", raise_exception=True)
def account_list(request: HttpRequest) -> HttpResponse:
    accounts = ProviderAccount.objects.all()
    return render(request, "providers/account_list.html", {"accounts": accounts})


def callback_urls(request: HttpRequest, account: ProviderAccount, token: str) -> list[dict]:
    """The addresses the provider must call (ISMS: delivery reports and incoming SMS), absolute,
    with `token` in them; none for providers that do not call us."""
    capabilities = account.backend.capabilities
    wanted = [
        ("dlr", _("Delivery reports"), capabilities.reports_push, account.last_report_at),
        ("incoming", _("Incoming SMS"), capabilities.inbound, account.last_inbound_at),
    ]
    urls = []
    for suffix, label, offered, last in wanted:
        if not offered:
            continue
        try:
            path = reverse(f"hooks:{account.kind}_{suffix}", args=[token])
        except NoReverseMatch:  # this provider reports another way (SMPP, polling)
            continue
        urls.append(
            {
                "id": suffix,
                "label": label,
                "url": request.build_absolute_uri(path),
                "last": last,
            }
        )
    return urls


@permission_required("providers.view_provideraccount", raise_exception=True)
def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(ProviderAccount, pk=pk)
    backend = account.backend
    suggested = [ip for ip in backend.callback_addresses if ip not in account.allowed_ips]
    context = {
        "account": account,
        "options": option_rows(account),
        "callbacks": callback_urls(request, account, account.webhook_token),
        "previous_callbacks": (
            callback_urls(request, account, account.previous_webhook_token)
            if account.previous_webhook_token
            else []
        ),
        "callback_addresses": backend.callback_addresses,
        "suggested_addresses": suggested,
    }
    return render(request, "providers/account_detail.html", context)


def option_rows(account: ProviderAccount) -> list[tuple[str, str, bool]]:
    """The account's own options as (label, value, typed) for reading; secrets are never shown.
    `typed`: the value is as someone typed it (an address, a host), not the portal's words."""
    rows = []
    stored = account.options or {}
    for name, field in account.backend_class.settings_fields().items():
        value = stored.get(name, field.initial)
        if is_secret(field):
            shown = _("set (never shown)") if value else _("not set")
        elif isinstance(field, forms.BooleanField):
            shown = _("yes") if value else _("no")
        elif value in (None, ""):
            shown = _("not set")
        elif isinstance(field, forms.ChoiceField):
            shown = dict(field.choices).get(str(value), value)
        else:
            shown = value
        typed = shown is value
        rows.append((str(field.label or name.replace("_", " ").capitalize()), str(shown), typed))
    return rows


@require_POST
@permission_required("providers.view_provideraccount", raise_exception=True)
def account_test_connection(request: HttpRequest, pk: int) -> HttpResponse:
    """Call the provider's cheapest read operation and say, in words, what it answered."""
    account = get_object_or_404(ProviderAccount, pk=pk)
    try:
        result = {"ok": True, "text": account.backend.check_connection()}
    except ProviderError as exc:
        result = {"ok": False, "text": str(exc), "provider_text": exc.provider_text}
    except ImproperlyConfigured as exc:  # a stored password the key cannot decrypt
        result = {"ok": False, "text": str(exc)}
    log.info("connection test of account %s: %s", account.pk, "ok" if result["ok"] else "failed")
    if request.htmx:
        return render(
            request,
            "providers/account_detail.html#connection-result",
            {"account": account, "connection": result},
        )
    level = messages.success if result["ok"] else messages.error
    level(request, result["text"])
    return redirect(account)


@permission_required("providers.add_provideraccount", raise_exception=True)
def account_create(request: HttpRequest) -> HttpResponse:
    form = ProviderAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        account = form.save()
        messages.success(request, _("Account “%(account)s” created.") % {"account": account})
        return redirect(account)
    return render(request, "providers/account_form.html", {"form": form})


@permission_required("providers.change_provideraccount", raise_exception=True)
def account_edit(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(ProviderAccount, pk=pk)
    form = ProviderAccountForm(request.POST or None, instance=account)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Account “%(account)s” saved.") % {"account": account})
        return redirect(account)
    return render(request, "providers/account_form.html", {"form": form, "account": account})


@require_POST
@permission_required("providers.change_provideraccount", raise_exception=True)
def account_allow_callback_addresses(request: HttpRequest, pk: int) -> HttpResponse:
    """Add the addresses the provider's document names to the account's IP allow-list."""
    account = get_object_or_404(ProviderAccount, pk=pk)
    addresses = account.backend.callback_addresses
    if not addresses:
        messages.error(
            request,
            _("%(provider)s names no callback addresses.")
            % {"provider": account.get_kind_display()},
        )
        return redirect(account)
    current = account.allowed_ips
    added = [ip for ip in addresses if ip not in current]
    account.ip_allowlist = "\n".join([*current, *added])
    account.save(update_fields=["ip_allowlist", "updated_at"])
    if added:
        messages.success(
            request,
            _("Only %(addresses)s may now call this account's webhooks.")
            % {"addresses": listed(account.allowed_ips)},
        )
    else:
        messages.info(request, _("Those addresses were already on the allow-list."))
    return redirect(account)


@require_POST
@permission_required("providers.change_provideraccount", raise_exception=True)
def account_rotate_token(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(ProviderAccount, pk=pk)
    account.rotate_webhook_token()
    audit.record("token_rotated", account)
    messages.success(
        request,
        _(
            "New callback addresses issued; give them to the provider. The previous ones keep "
            "working until you finish the rotation."
        ),
    )
    return redirect(account)


@require_POST
@permission_required("providers.change_provideraccount", raise_exception=True)
def account_finish_rotation(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(ProviderAccount, pk=pk)
    if account.previous_webhook_token:
        account.finish_token_rotation()
        audit.record("token_rotation_finished", account)
        messages.success(request, _("The previous callback addresses no longer work."))
    return redirect(account)
