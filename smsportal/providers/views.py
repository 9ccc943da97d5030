from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from .forms import ProviderAccountForm
from .models import ProviderAccount


@permission_required("providers.view_provideraccount", raise_exception=True)
def account_list(request: HttpRequest) -> HttpResponse:
    accounts = ProviderAccount.objects.all()
    return render(request, "providers/account_list.html", {"accounts": accounts})


@permission_required("providers.view_provideraccount", raise_exception=True)
def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(ProviderAccount, pk=pk)
    return render(request, "providers/account_detail.html", {"account": account})


@permission_required("providers.add_provideraccount", raise_exception=True)
def account_create(request: HttpRequest) -> HttpResponse:
    form = ProviderAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        account = form.save()
        messages.success(request, f"Account “{account}” created.")
        return redirect(account)
    return render(request, "providers/account_form.html", {"form": form})


@permission_required("providers.change_provideraccount", raise_exception=True)
def account_edit(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(ProviderAccount, pk=pk)
    form = ProviderAccountForm(request.POST or None, instance=account)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"Account “{account}” saved.")
        return redirect(account)
    return render(request, "providers/account_form.html", {"form": form, "account": account})


@require_POST
@permission_required("providers.change_provideraccount", raise_exception=True)
def account_rotate_token(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(ProviderAccount, pk=pk)
    account.rotate_webhook_token()
    messages.success(
        request,
        "New webhook token issued. The previous one keeps working until you finish the rotation.",
    )
    return redirect(account)


@require_POST
@permission_required("providers.change_provideraccount", raise_exception=True)
def account_finish_rotation(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(ProviderAccount, pk=pk)
    account.finish_token_rotation()
    messages.success(request, "The previous webhook token no longer works.")
    return redirect(account)
