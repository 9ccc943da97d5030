"""Quotas: the list with each quota's usage, Managers' add/edit/delete, and the CSV export."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from smsportal.core import audit
from smsportal.core.csv_export import streaming_csv
from smsportal.departments.models import Department

from . import usage
from .forms import QuotaForm, RangeForm
from .models import Quota


def visible_quotas(user):
    """The quotas of the user's departments (every one for a superuser)."""
    return Quota.objects.filter(department__in=Department.objects.of(user))


@permission_required("quotas.view_quota", raise_exception=True)
def quota_list(request: HttpRequest) -> HttpResponse:
    departments = list(Department.objects.of(request.user))
    quotas = usage.bars(visible_quotas(request.user))
    by_department = [
        (department, [(q, b) for q, b in quotas if q.department_id == department.pk])
        for department in departments
    ]
    context = {"by_department": by_department, "departments": departments}
    return render(request, "quotas/list.html", context)


@permission_required("quotas.add_quota", raise_exception=True)
def quota_create(request: HttpRequest) -> HttpResponse:
    initial = {}
    if (department := request.GET.get("department", "")).isdigit():
        initial["department"] = department
    form = QuotaForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        quota = form.save()
        messages.success(request, _("Quota for %(quota)s added.") % {"quota": quota})
        return redirect("quotas:list")
    return render(request, "quotas/form.html", {"form": form})


@permission_required("quotas.change_quota", raise_exception=True)
def quota_edit(request: HttpRequest, pk: int) -> HttpResponse:
    quota = get_object_or_404(visible_quotas(request.user), pk=pk)
    form = QuotaForm(request.POST or None, instance=quota, user=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Quota for %(quota)s saved.") % {"quota": quota})
        return redirect("quotas:list")
    return render(request, "quotas/form.html", {"form": form, "quota": quota})


@require_POST
@permission_required("quotas.delete_quota", raise_exception=True)
def quota_delete(request: HttpRequest, pk: int) -> HttpResponse:
    quota = get_object_or_404(visible_quotas(request.user), pk=pk)
    name = str(quota)
    quota.delete()
    messages.success(
        request, _("Quota for %(quota)s removed: that scope is now unlimited.") % {"quota": name}
    )
    return redirect("quotas:list")


@permission_required("quotas.view_quota", raise_exception=True)
def export(request: HttpRequest) -> HttpResponse:
    """Usage of the user's departments per day and month as CSV, for a date range (default: the
    last 30 days, at most a year)."""
    form = RangeForm(request.GET)
    if not form.is_valid():
        return HttpResponse(
            _("Bad range: %(errors)s")
            % {"errors": "; ".join(e for errors in form.errors.values() for e in errors)},
            status=400,
            content_type="text/plain",
        )
    since, until = form.cleaned_data["since"], form.cleaned_data["until"]
    audit.record("exported", None, what="quota usage", since=str(since), until=str(until))
    stamp = timezone.localdate().isoformat()
    return streaming_csv(
        f"quota-usage-{stamp}.csv",
        usage.EXPORT_HEADER,
        usage.export_rows(visible_quotas(request.user), since, until),
    )
