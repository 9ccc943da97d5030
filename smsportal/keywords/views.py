"""The Keywords page: rules, each account's confirmations, and the latest automatic replies."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from smsportal.providers.models import ProviderAccount

from .forms import ConfirmationsForm, KeywordRuleForm
from .models import KeywordRule
from .scope import replies_of
from .services import confirmations_for

RECENT_REPLIES = 50


@permission_required("keywords.view_keywordrule", raise_exception=True)
def keyword_list(request: HttpRequest) -> HttpResponse:
    rules = KeywordRule.objects.select_related("account", "add_to_list", "remove_from_list")
    recent = replies_of(request).select_related("account", "rule")[:RECENT_REPLIES]
    accounts = ProviderAccount.objects.order_by("name")
    return render(
        request,
        "keywords/keyword_list.html",
        {"rules": rules, "recent": recent, "accounts": accounts},
    )


def _rule_form(request: HttpRequest, rule: KeywordRule | None) -> HttpResponse:
    form = KeywordRuleForm(request.POST or None, instance=rule, user=request.user)
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        if rule is None:
            saved.created_by = request.user
        saved.save()
        messages.success(
            request, _("Keyword rule “%(keyword)s” saved.") % {"keyword": saved.keyword}
        )
        return redirect("keywords:list")
    return render(request, "keywords/rule_form.html", {"form": form, "rule": rule})


@permission_required("keywords.add_keywordrule", raise_exception=True)
def rule_create(request: HttpRequest) -> HttpResponse:
    return _rule_form(request, None)


@permission_required("keywords.change_keywordrule", raise_exception=True)
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _rule_form(request, get_object_or_404(KeywordRule, pk=pk))


@require_POST
@permission_required("keywords.delete_keywordrule", raise_exception=True)
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(KeywordRule, pk=pk)
    rule.delete()
    messages.success(request, _("Keyword rule “%(keyword)s” deleted.") % {"keyword": rule.keyword})
    return redirect("keywords:list")


@permission_required("keywords.change_confirmations", raise_exception=True)
def confirmations_edit(request: HttpRequest, account_pk: int) -> HttpResponse:
    account = get_object_or_404(ProviderAccount, pk=account_pk)
    form = ConfirmationsForm(request.POST or None, instance=confirmations_for(account))
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(
            request, _("Confirmations of %(account)s saved.") % {"account": account.name}
        )
        return redirect("keywords:list")
    return render(request, "keywords/confirmations_form.html", {"form": form, "account": account})
