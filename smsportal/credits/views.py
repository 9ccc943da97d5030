from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from smsportal.core import audit
from smsportal.providers.backends.base import ProviderError
from smsportal.providers.models import ProviderAccount

from .balances import account_balances, available_balance
from .charts import PERIODS, balance_history
from .forms import TransferForm, transfer_accounts
from .models import BalanceSnapshot, CreditTransfer, TransferOutcome


def _panel_context(accounts, errors: dict[int, str] | None = None) -> dict:
    return {"balances": account_balances(accounts, errors), "single": False}


def _card_accounts(request: HttpRequest, data) -> tuple[QuerySet[ProviderAccount], bool]:
    """The accounts a balance card shows: one (`account` given, the compose page's card) or
    every active account (the dashboard's and the credits page's)."""
    accounts = ProviderAccount.objects.filter(is_active=True)
    chosen = data.get("account", "")
    if chosen.isdigit():
        return accounts.filter(pk=chosen), True
    return accounts, False


def _back_to(request: HttpRequest, url: str) -> str:
    """`url` if it is a page of this site, else the credits page (no open redirect)."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return reverse("credits:overview")


@permission_required("credits.view_balancesnapshot", raise_exception=True)
def overview(request: HttpRequest) -> HttpResponse:
    """Balances, the balance over time, and the latest transfers."""
    days = int(request.GET.get("days", "7")) if request.GET.get("days", "7").isdigit() else 7
    if days not in PERIODS:
        days = 7
    accounts = ProviderAccount.objects.filter(is_active=True)
    context = {
        **_panel_context(accounts),
        "next": request.get_full_path(),  # where the balance card's Refresh returns
        "history": balance_history(days),
        "days": days,
        "periods": PERIODS,
        "transfers": CreditTransfer.objects.select_related("account", "created_by")[:10],
        "can_transfer": bool(transfer_accounts()),
    }
    return render(request, "credits/overview.html", context)


@permission_required("credits.view_balancesnapshot", raise_exception=True)
def balances_panel(request: HttpRequest) -> HttpResponse:
    """The balances card alone, for htmx: every active account, or the one in `?account=` (the
    compose page swaps its card when another account is chosen). The credits page is its
    full-page form."""
    if not request.htmx:
        return redirect("credits:overview")
    accounts, single = _card_accounts(request, request.GET)
    next_url = request.htmx.current_url_abs_path or reverse("credits:overview")
    context = {**_panel_context(accounts), "single": single, "next": next_url}
    return render(request, "credits/_balances.html", context)


@require_POST
@permission_required("credits.add_balancesnapshot", raise_exception=True)
def refresh(request: HttpRequest) -> HttpResponse:
    """Ask the providers for fresh balances: every active account that reports one, or one.

    With htmx the answer is the card itself, swapped in place on the page where Refresh was
    pressed, each failure on its account's row; nothing is left in the session to show up as a
    stale banner on the next page. Without JavaScript: back to that page, with banners."""
    accounts, single = _card_accounts(request, request.POST)
    errors: dict[int, str] = {}
    refreshed = []
    for account in accounts:
        if not account.backend_class.capabilities.balance:
            continue
        try:
            refreshed.append(BalanceSnapshot.objects.refresh(account))
        except ProviderError as error:
            errors[account.pk] = str(error)
    next_url = _back_to(request, request.POST.get("next", ""))
    if request.htmx:
        context = {
            **_panel_context(accounts, errors),
            "single": single,
            "next": next_url,
            "refreshed": len(refreshed),
        }
        return render(request, "credits/_balances.html", context)
    for snapshot in refreshed:
        messages.success(
            request,
            _("Balance of %(account)s: %(amount)s")
            % {"account": snapshot.account, "amount": f"{snapshot.amount:,.2f}"},
        )
    for account in accounts:
        if account.pk in errors:
            messages.error(
                request,
                _("Balance of %(account)s not refreshed: %(error)s")
                % {"account": account, "error": errors[account.pk]},
            )
    return redirect(next_url)


@permission_required("credits.view_credittransfer", raise_exception=True)
def transfer_list(request: HttpRequest) -> HttpResponse:
    transfers = CreditTransfer.objects.select_related("account", "created_by", "executed_by")
    page = Paginator(transfers, 50).get_page(request.GET.get("page"))
    return render(request, "credits/transfer_list.html", {"page": page})


@permission_required("credits.add_credittransfer", raise_exception=True)
def transfer_create(request: HttpRequest) -> HttpResponse:
    """Step 1: the form. Saving creates the `pending` ledger row (once per form token) and
    takes a fresh balance for the confirmation step."""
    form = TransferForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        transfer, created = CreditTransfer.objects.get_or_create(
            token=data["token"],
            defaults={
                "account": data["account"],
                "customer": data["customer"],
                "amount": data["amount"],
                "created_by": request.user,
            },
        )
        if created and transfer.account.backend_class.capabilities.balance:
            try:
                BalanceSnapshot.objects.refresh(transfer.account)
            except ProviderError as error:
                messages.warning(
                    request,
                    _("Could not refresh the balance of %(account)s: %(error)s")
                    % {"account": transfer.account, "error": error},
                )
        return redirect(transfer)
    return render(
        request, "credits/transfer_form.html", {"form": form, "accounts": transfer_accounts()}
    )


@permission_required("credits.view_credittransfer", raise_exception=True)
def transfer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Step 2 for a pending transfer (the confirmation, with the balance before and after);
    otherwise the ledger entry and its outcome."""
    transfer = get_object_or_404(
        CreditTransfer.objects.select_related("account", "created_by", "executed_by"), pk=pk
    )
    context: dict = {"transfer": transfer}
    if transfer.outcome == TransferOutcome.PENDING:
        current = available_balance(transfer.account)
        context["current"] = current
        if current.available is not None:
            context["after"] = current.available - transfer.amount
        context["refusal"] = _foreseen_refusal(transfer, current, context.get("after"))
        # Two forms filled in (two tabs) are two transfers: say so before the second one goes.
        context["similar"] = (
            CreditTransfer.objects.filter(
                account=transfer.account,
                customer=transfer.customer,
                amount=transfer.amount,
                created_at__gte=timezone.now() - timedelta(hours=24),
            )
            .exclude(pk=transfer.pk)
            .exclude(outcome=TransferOutcome.REFUSED)
        )
    return render(request, "credits/transfer_detail.html", context)


def _foreseen_refusal(transfer: CreditTransfer, current, after) -> str:
    """Why executing this pending transfer would be refused, or "" (the portal's own balance
    check and the provider's whole-credit rule, the same checks execute and the form make)."""
    account = transfer.account
    step = getattr(account.backend_class, "transfer_step", None)
    if step and transfer.amount % step:
        return _("%(provider)s transfers whole credits only, so it would refuse this.") % {
            "provider": account.get_kind_display()
        }
    if current.snapshot is None:
        return _(
            "The balance of %(account)s is not known, so the transfer would be refused. "
            "Refresh the balance, then make the transfer again."
        ) % {"account": account.name}
    if after is not None and after < 0:
        return _(
            "%(account)s has %(available)s credits available; this transfer needs %(amount)s, "
            "so it would be refused."
        ) % {
            "account": account.name,
            "available": f"{current.available:,.2f}",
            "amount": f"{transfer.amount:,.2f}",
        }
    return ""


@require_POST
@permission_required("credits.add_credittransfer", raise_exception=True)
def transfer_execute(request: HttpRequest, pk: int) -> HttpResponse:
    """Step 3: execute. Any number of these requests for one transfer make one transfer."""
    transfer = get_object_or_404(CreditTransfer.objects.select_related("account"), pk=pk)
    before = transfer.outcome
    transfer = transfer.execute(request.user)
    if transfer.outcome != before:  # a repeated click changes nothing and records nothing
        audit.record(
            "credit_transferred",
            transfer,
            changes={"outcome": (before, transfer.outcome)},
            amount=transfer.amount,
            customer=transfer.customer,
        )
    if transfer.outcome == TransferOutcome.DONE:
        messages.success(
            request,
            _("%(amount)s credits transferred to %(customer)s.")
            % {"amount": f"{transfer.amount:,.2f}", "customer": transfer.customer},
        )
    elif transfer.outcome == TransferOutcome.REFUSED:
        messages.error(request, _("Transfer refused: %(why)s") % {"why": transfer.provider_text})
    elif transfer.outcome == TransferOutcome.UNKNOWN:
        messages.warning(request, _("Outcome unknown: %(why)s") % {"why": transfer.provider_text})
    elif transfer.outcome == TransferOutcome.PENDING and before == TransferOutcome.PENDING:
        messages.error(request, transfer.provider_text)
    return redirect(transfer)
