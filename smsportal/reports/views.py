"""The dashboard, the report charts and the deliveries export."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext

from smsportal.core import audit
from smsportal.core.csv_export import streaming_csv
from smsportal.core.words import word
from smsportal.messaging.models import Delivery, Message
from smsportal.messaging.scope import (
    deliveries_visible,
    department_keys,
    departments_of,
    messages_of,
)
from smsportal.providers.models import ProviderAccount
from smsportal.quotas.usage import bars as quota_bars
from smsportal.quotas.views import visible_quotas
from smsportal.routing.service import accounts_out_of_routes

from . import queries
from .destinations import by_country
from .forms import ExportForm, RangeForm
from .routes import by_route

# What a user must hold to see each part of the dashboard; a user in no role sees none of it.
DASHBOARD_PERMISSIONS = {
    "accounts": "providers.view_provideraccount",
    "balances": "credits.view_balancesnapshot",
    "figures": "messaging.view_delivery",  # deliveries and costs per account
    "messages": "messaging.view_message",
}


def dashboard(request: HttpRequest) -> HttpResponse:
    """Figures per account for today, 7 and 30 days; recent messages; or, for an empty system,
    what to do first. Each part shows only to a user allowed to see it."""
    can = {part: request.user.has_perm(perm) for part, perm in DASHBOARD_PERMISSIONS.items()}
    if not any(can.values()):
        return render(request, "reports/dashboard.html", {"no_role": True})
    accounts = list(ProviderAccount.objects.filter(is_active=True)) if can["accounts"] else []
    periods = queries.periods()
    rows = []
    keys = None
    if can["figures"] and accounts:
        keys = department_keys(request)
        totals = {name: queries.totals_by_account(*span, keys) for name, span in periods.items()}
        rows = [
            {
                "account": account,
                "periods": [(name, totals[name].get(account.pk)) for name in periods],
            }
            for account in accounts
        ]
    recent = (
        messages_of(request).select_related("account")[:8]
        if can["messages"]
        else Message.objects.none()
    )
    context = {
        "accounts": accounts,
        "rows": rows,
        "period_names": list(periods),
        "recent": recent,
        "can": can,
        "out_of_routes": accounts_out_of_routes() if can["accounts"] else [],
        "quota_usage": _quota_usage(request),
        # In no department, the figures are those of no one's messages: said, as on Reports.
        "no_department": keys == [0],
    }
    return render(request, "reports/dashboard.html", context)


def _quota_usage(request: HttpRequest) -> list:
    """A bar per quota limit of the user's departments (used / limit), for the dashboard and the
    reports page."""
    if not request.user.has_perm("quotas.view_quota"):
        return []
    return quota_bars(visible_quotas(request.user))


@permission_required("messaging.view_delivery", raise_exception=True)
def index(request: HttpRequest) -> HttpResponse:
    form = RangeForm.of(request.GET)
    if not form.is_valid():
        return render(request, "reports/index.html", {"form": form})
    data = form.cleaned_data
    since, until, account = data["since"], data["until"], data.get("account")
    account_id = account.pk if account else None
    keys = department_keys(request)  # an Operator reads only their departments' figures
    days = queries.per_day(since, until, keys, account_id)
    providers = queries.rate_by_provider(since, until, keys, account_id)
    reasons = queries.failure_reasons(since, until, keys, account_id)
    chart = {
        "days": [day.isoformat() for day, _ in days],
        "statuses": [
            {
                "label": word(status.value),
                "color": color,
                "data": [f.counts[status] for _, f in days],
            }
            for status, color in queries.CHART_STATUSES
            if any(f.counts[status] for _, f in days)
        ],
        "cost": [float(f.cost) for _, f in days],
        "providers": [name for name, _ in providers],
        "rates": [
            round(f.delivery_rate, 1) if f.delivery_rate is not None else None for _, f in providers
        ],
        "reasons": [
            f"{word(status)}: {reason or gettext('no code')}" for status, reason, _ in reasons
        ],
        "any_cost": any(f.cost for _, f in days),
        "reason_counts": [n for _, _, n in reasons],
    }
    context = {
        "form": form,
        "since": since,
        "until": until,
        "days": days,
        "providers": providers,
        "reasons": reasons,
        "countries": by_country(since, until, keys, account_id),
        "routes": by_route(since, until, keys, account_id),
        "by_department": queries.by_department(since, until, keys, account_id),
        "unrated": queries.unrated(since, until, keys, account_id),
        "chart": chart,
        "export_query": request.GET.urlencode(),
        "quota_usage": _quota_usage(request),
        # Whose figures these are, said on the page when they are not everyone's.
        "departments": None if keys is None else departments_of(request).order_by("name"),
    }
    return render(request, "reports/index.html", context)


EXPORT_HEADER = [
    "delivery",
    "message",
    "account",
    "phone",
    "status",
    "provider_message_id",
    "error_code",
    "error_text",
    "segments",
    "cost",
    "queued_at",
    "submitted_at",
    "final_at",
]


@permission_required("messaging.view_delivery", raise_exception=True)
def export(request: HttpRequest) -> HttpResponse:
    """Deliveries for a filter as CSV, streamed in chunks: a million rows never sit in memory."""
    form = ExportForm(request.GET)
    if not form.is_valid():
        return HttpResponse(
            "Bad filter: " + "; ".join(e for errors in form.errors.values() for e in errors),
            status=400,
            content_type="text/plain",
        )
    data = form.cleaned_data
    zone = timezone.get_current_timezone()
    start = datetime.combine(data["since"], time.min, tzinfo=zone)
    end = datetime.combine(data["until"] + timedelta(days=1), time.min, tzinfo=zone)
    rows = Delivery.objects.filter(queued_at__gte=start, queued_at__lt=end)
    rows = deliveries_visible(rows, department_keys(request))  # their departments' messages
    if data.get("account"):
        rows = rows.filter(account=data["account"])
    if data.get("status"):
        rows = rows.filter(status=data["status"])
    if data.get("message"):
        rows = rows.filter(message_id=data["message"])
    values = rows.order_by("id").values_list(
        "id",
        "message_id",
        "account__name",
        "phone",
        "status",
        "provider_message_id",
        "error_code",
        "error_text",
        "segments",
        "cost",
        "queued_at",
        "submitted_at",
        "final_at",
    )
    name = f"deliveries-{data['since']}-{data['until']}.csv"
    audit.record("exported", what="deliveries", filters=dict(request.GET.items()))
    return streaming_csv(name, EXPORT_HEADER, values.iterator(chunk_size=5000))
