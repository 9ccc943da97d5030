"""The routing pages: prices per destination per account (this module), routes and the
dry-run (routes_views)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from smsportal.providers.models import ProviderAccount

from .destinations import overrides
from .forms import PriceFileForm, PriceForm
from .models import DestinationPrice
from .price_import import MAX_ERRORS_SHOWN, read_price_file, replace_prices


def price_rows(account: ProviderAccount) -> list[dict]:
    """The table, each row with the shorter prefixes it overrides (the longest wins)."""
    rows = list(DestinationPrice.objects.filter(account=account))
    shadowed = overrides(row.prefix for row in rows)
    by_prefix = {row.prefix: row for row in rows}
    return [
        {"price": row, "overrides": [by_prefix[p] for p in shadowed[row.prefix]]}
        for row in sorted(rows, key=lambda r: (r.prefix[:3], r.prefix))
    ]


@permission_required("routing.view_destinationprice", raise_exception=True)
def prices(request: HttpRequest, pk: int) -> HttpResponse:
    """An account's prices per destination; a Manager adds, changes and removes them here."""
    account = get_object_or_404(ProviderAccount, pk=pk)
    form = PriceForm()
    if request.method == "POST":
        if not request.user.has_perm("routing.change_destinationprice"):
            return HttpResponse(status=403)
        form = PriceForm(request.POST)
        if form.is_valid():
            destination = form.cleaned_data["destination"]
            _row, created = DestinationPrice.objects.update_or_create(
                account=account,
                prefix=destination.prefix,
                defaults={
                    "country": destination.country,
                    "price_per_part": form.cleaned_data["price"],
                },
            )
            text = _("Price for %(dest)s added.") if created else _("Price for %(dest)s changed.")
            messages.success(request, text % {"dest": destination.label})
            return redirect("routing:prices", pk=account.pk)
    return render_prices(request, account, form=form)


def render_prices(request, account, **extra) -> HttpResponse:
    context = {
        "account": account,
        "rows": price_rows(account),
        "form": PriceForm(),
        "file_form": PriceFileForm(),
        **extra,
    }
    return render(request, "routing/prices.html", context)


@require_POST
@permission_required("routing.change_destinationprice", raise_exception=True)
def import_prices(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(ProviderAccount, pk=pk)
    file_form = PriceFileForm(request.POST, request.FILES)
    if not file_form.is_valid():
        return render_prices(request, account, file_form=file_form)
    parsed = read_price_file(file_form.cleaned_data["file"].read())
    if parsed.errors:
        return render_prices(
            request,
            account,
            file_form=file_form,
            file_errors=parsed.errors[:MAX_ERRORS_SHOWN],
            more_errors=max(0, len(parsed.errors) - MAX_ERRORS_SHOWN),
        )
    count = replace_prices(account, parsed)
    messages.success(
        request,
        ngettext(
            "%(count)s price imported; it replaces the previous table.",
            "%(count)s prices imported; they replace the previous table.",
            count,
        )
        % {"count": f"{count:,}"},
    )
    return redirect("routing:prices", pk=account.pk)


@require_POST
@permission_required("routing.delete_destinationprice", raise_exception=True)
def delete_price(request: HttpRequest, pk: int, price_pk: int) -> HttpResponse:
    price = get_object_or_404(DestinationPrice, pk=price_pk, account_id=pk)
    price.delete()
    messages.success(request, _("Price for %(dest)s removed.") % {"dest": f"+{price.prefix}"})
    return redirect("routing:prices", pk=pk)
