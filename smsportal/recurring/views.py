"""Recurring sends: the list, making and editing one, its page (the next five occurrences and
what each past one did), pause, resume and delete."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from smsportal.departments.models import Department
from smsportal.providers.models import ProviderAccount
from smsportal.senders.selectors import sender_choices_keeping, unusable, unusable_among

from .forms import RecurringSendForm
from .models import RecurringSend

HISTORY = 50  # past occurrences shown on a schedule's page


def schedules_of(request: HttpRequest):
    """The recurring sends of the user's departments (all, for a superuser; one of no
    department, made before departments existed, is everyone's)."""
    if request.user.is_superuser:
        return RecurringSend.objects.all()
    return RecurringSend.objects.filter(
        Q(department__in=Department.objects.of(request.user)) | Q(department__isnull=True)
    )


@dataclass(frozen=True)
class SenderFilter:
    """`?account=ID&sender=VALUE`: the recurring sends of one sender ID of one account, where
    the retire confirmation's "and N more" leads (recurring/sender_uses.py)."""

    account: ProviderAccount
    sender: str

    @classmethod
    def of(cls, request: HttpRequest) -> SenderFilter | None:
        account, sender = request.GET.get("account", ""), request.GET.get("sender", "").strip()
        if not (account.isdigit() and sender):
            return None
        found = ProviderAccount.objects.filter(pk=int(account)).only("name").first()
        return cls(found, sender) if found else None


@permission_required("recurring.view_recurringsend", raise_exception=True)
def schedule_list(request: HttpRequest) -> HttpResponse:
    rows = schedules_of(request)
    sender_filter = SenderFilter.of(request)
    if sender_filter:
        rows = rows.filter(account=sender_filter.account, sender=sender_filter.sender)
    schedules = list(
        rows.select_related("account").prefetch_related("lists").with_last_occurrence()
    )
    # A sender ID retired (or otherwise unusable) since a schedule was saved: its row says so.
    problems = unusable_among((schedule.account, schedule.sender) for schedule in schedules)
    for schedule in schedules:
        schedule.sender_problem = problems.get((schedule.account_id, schedule.sender))
    context = {
        "schedules": schedules,
        "sender_filter": sender_filter,
        "no_department": not Department.objects.of(request.user).exists(),
    }
    return render(request, "recurring/list.html", context)


def sender_select(form: RecurringSendForm) -> dict:
    """The sender select's choices (senders/_options.html), as on Compose: the usable sender IDs
    of the account the form shows, its default chosen for a new schedule, the schedule's own (or
    the one posted) otherwise. A sender no longer usable stays offered as it was chosen, so that
    saving says why instead of switching to another sender unseen; it is marked in the select,
    and said under it from the moment the page opens (a sender ID retired since the schedule was
    saved), not only when Save is pressed."""
    accounts = form.fields["account"].queryset
    shown = str(form["account"].value() or "")
    account = (accounts.filter(pk=shown).first() if shown.isdigit() else None) or accounts.first()
    if form.is_bound:
        chosen = form.data.get("sender", "")
    else:
        chosen = form.instance.sender if form.instance.pk else None
    choices, problem = sender_choices_keeping(account, chosen)
    # Saving says why (form.clean) once it is posted; before, the page says it here.
    if problem and not form.errors.get("sender"):
        choices["sender_warning"] = problem.warning
    return choices


def form_page(request: HttpRequest, form: RecurringSendForm, **extra) -> HttpResponse:
    return render(request, "recurring/form.html", {**sender_select(form), "form": form, **extra})


def department_lists(request: HttpRequest, schedule: RecurringSend | None = None) -> HttpResponse:
    """The form's Lists field (htmx, when the department changes): the lists of the department
    now chosen and shared ones, the chosen lists it may send to kept."""
    initial = {
        "department": request.GET.get("department"),
        "lists": [int(i) for i in request.GET.getlist("lists") if i.isdigit()],
    }
    form = RecurringSendForm(instance=schedule, initial=initial, user=request.user)
    return render(request, "recurring/form.html#department-lists", {"form": form})


def _asks_for_lists(request: HttpRequest) -> bool:
    return request.method == "GET" and request.htmx and request.htmx.target == "department-lists"


@permission_required("recurring.add_recurringsend", raise_exception=True)
def schedule_create(request: HttpRequest) -> HttpResponse:
    if _asks_for_lists(request):
        return department_lists(request)
    form = RecurringSendForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        schedule = form.save(commit=False)
        schedule.created_by = request.user
        schedule.plan()
        with transaction.atomic():
            schedule.save()
            form.save_m2m()
        messages.success(
            request, _("Recurring send “%(schedule)s” created.") % {"schedule": schedule}
        )
        return redirect(schedule)
    return form_page(request, form)


@permission_required("recurring.change_recurringsend", raise_exception=True)
def schedule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    schedule = get_object_or_404(schedules_of(request), pk=pk)
    if _asks_for_lists(request):
        return department_lists(request, schedule)
    form = RecurringSendForm(request.POST or None, instance=schedule, user=request.user)
    if request.method == "POST" and form.is_valid():
        schedule = form.save(commit=False)
        schedule.plan()  # from now: an edit never sends what was due before it
        with transaction.atomic():
            schedule.save()
            form.save_m2m()
        messages.success(
            request, _("Recurring send “%(schedule)s” saved.") % {"schedule": schedule}
        )
        return redirect(schedule)
    return form_page(request, form, schedule=schedule)


@permission_required("recurring.view_recurringsend", raise_exception=True)
def schedule_detail(request: HttpRequest, pk: int) -> HttpResponse:
    schedule = get_object_or_404(
        schedules_of(request).select_related("account").prefetch_related("lists"), pk=pk
    )
    context = {
        "schedule": schedule,
        "upcoming": schedule.upcoming(5),
        "sender_problem": unusable(schedule.account, schedule.sender),
        "history": schedule.occurrences.select_related("message")[:HISTORY],
    }
    return render(request, "recurring/detail.html", context)


@require_POST
@permission_required("recurring.change_recurringsend", raise_exception=True)
def schedule_pause(request: HttpRequest, pk: int) -> HttpResponse:
    schedule = get_object_or_404(schedules_of(request), pk=pk)
    if request.POST.get("resume"):
        schedule.paused = False
        schedule.plan()  # what fell due while paused is not sent
        schedule.save(update_fields=["paused", "next_at"])
        messages.success(request, _("“%(schedule)s” resumed.") % {"schedule": schedule})
    else:
        schedule.paused = True
        schedule.save(update_fields=["paused"])
        messages.success(
            request,
            _("“%(schedule)s” paused: nothing is sent until it is resumed.")
            % {"schedule": schedule},
        )
    return redirect(schedule)


@require_POST
@permission_required("recurring.delete_recurringsend", raise_exception=True)
def schedule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    schedule = get_object_or_404(schedules_of(request), pk=pk)
    schedule.delete()
    messages.success(
        request,
        _("Recurring send “%(schedule)s” deleted; messages it sent stay.") % {"schedule": schedule},
    )
    return redirect("recurring:list")
