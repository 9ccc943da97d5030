"""The Keywords page: rules, each account's confirmations, and the latest automatic replies."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from smsportal.contacts.scope import lists_of
from smsportal.departments.scope import sees_everything
from smsportal.providers.models import ProviderAccount

from .forms import ConfirmationsForm, KeywordRuleForm
from .models import AutoReply, KeywordRule
from .outcomes import shown_outcome
from .scope import replies_of
from .services import confirmations_for

RECENT_REPLIES = 50


@permission_required("keywords.view_keywordrule", raise_exception=True)
def keyword_list(request: HttpRequest) -> HttpResponse:
    rules = list(KeywordRule.objects.select_related("account", "add_to_list", "remove_from_list"))
    recent = list(replies_of(request).select_related("account", "rule")[:RECENT_REPLIES])
    _outcomes_for_reader(request, recent)
    accounts = ProviderAccount.objects.order_by("name")
    context = {
        "rules": rules,
        "lists_seen": _lists_seen(request, rules),
        "recent": recent,
        "accounts": accounts,
    }
    return render(request, "keywords/keyword_list.html", context)


def _lists_seen(request: HttpRequest, rules: list[KeywordRule]) -> set[int]:
    """Of the lists the rules add to or remove from, the ids of those the person may see: the
    rules are the organisation's, but another department's private list is not named to them
    (nor linked)."""
    ids = {
        list_id
        for rule in rules
        for list_id in (rule.add_to_list_id, rule.remove_from_list_id)
        if list_id is not None
    }
    if not ids:
        return set()
    return set(lists_of(request).filter(pk__in=ids).values_list("pk", flat=True))


def _outcomes_for_reader(request: HttpRequest, replies: list[AutoReply]) -> None:
    """Each reply's outcome as the person may read it (`outcome_for_reader`): a list a note
    names that they may not see is "a list of another department". The notes keep a list's
    name (not its id), so the name is looked up among the lists they may see."""
    named = {
        kept["list"]
        for reply in replies
        for kept in reply.notes
        if isinstance(kept, dict) and "list" in kept
    }
    seen = None
    if named and not sees_everything(request):
        seen = set(lists_of(request).filter(name__in=named).values_list("name", flat=True))
    for reply in replies:
        reply.outcome_for_reader = shown_outcome(reply.notes, seen)


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
