"""The Managers' pages: create and rename departments, add and remove their members. Every
change is in the audit trail (django-auditlog records Department and its members, like user
changes: smsportal/audit/registration.py)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import permission_required
from django.db import transaction
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from .models import Department


class DepartmentForm(forms.ModelForm):
    class Meta:
        model = Department
        fields = ["name"]
        labels = {"name": gettext_lazy("Name")}

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError(_("Give the department a name."))
        taken = Department.objects.filter(name__iexact=name).exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(_("A department with this name already exists."))
        return name


class MemberForm(forms.Form):
    user = forms.ModelChoiceField(
        get_user_model().objects.none(), label=gettext_lazy("User"), empty_label=None
    )

    def __init__(self, *args, department: Department, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = (
            get_user_model()
            .objects.filter(is_active=True)
            .exclude(departments=department)
            .order_by("username")
        )


def _created_text(creator, department: Department) -> str:
    """Make the creator a member of their new department, and say so.

    A Manager sees and uses only their departments' rows: without this, the department they
    just made would be invisible to them in Compose, contacts and lists, with nothing to say
    why. A superuser sees every department anyway, so is not added (a member list with every
    superuser in it would say nothing about who works there)."""
    if creator.is_superuser:
        return _("Department “%(name)s” created. Add its members below.") % {"name": department}
    department.members.add(creator)
    return _(
        "Department “%(name)s” created, with you as its first member. Add the others below."
    ) % {"name": department}


@permission_required("departments.view_department", raise_exception=True)
def department_list(request: HttpRequest) -> HttpResponse:
    """Every department with how many members it has; a Manager adds one here."""
    form = DepartmentForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm("departments.add_department"):
            return HttpResponse(status=403)
        if form.is_valid():
            with transaction.atomic():  # never a department its creator was left out of
                department = form.save()
                text = _created_text(request.user, department)
            messages.success(request, text)
            return redirect("departments:detail", pk=department.pk)
    departments = Department.objects.annotate(member_count=Count("members")).order_by("name")
    return render(request, "departments/list.html", {"departments": departments, "form": form})


@permission_required("departments.view_department", raise_exception=True)
def department_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A department's name (renamed here) and its members (added and removed here)."""
    department = get_object_or_404(Department, pk=pk)
    form = DepartmentForm(request.POST or None, instance=department)
    if request.method == "POST":
        if not request.user.has_perm("departments.change_department"):
            return HttpResponse(status=403)
        if form.is_valid():
            form.save()
            messages.success(request, _("Department renamed “%(name)s”.") % {"name": department})
            return redirect("departments:detail", pk=department.pk)
        department.refresh_from_db()  # the heading keeps the saved name
    context = {
        "department": department,
        "form": form,
        "members": department.members.order_by("username"),
        "member_form": MemberForm(department=department),
    }
    return render(request, "departments/detail.html", context)


@require_POST
@permission_required("departments.change_department", raise_exception=True)
def member_add(request: HttpRequest, pk: int) -> HttpResponse:
    department = get_object_or_404(Department, pk=pk)
    form = MemberForm(request.POST, department=department)
    if form.is_valid():
        user = form.cleaned_data["user"]
        department.members.add(user)
        messages.success(
            request,
            _("%(user)s added to %(department)s.") % {"user": user, "department": department},
        )
    else:
        messages.error(request, _("Choose a user who is not in this department yet."))
    return redirect("departments:detail", pk=department.pk)


@require_POST
@permission_required("departments.change_department", raise_exception=True)
def member_remove(request: HttpRequest, pk: int, user_pk: int) -> HttpResponse:
    department = get_object_or_404(Department, pk=pk)
    user = get_object_or_404(department.members, pk=user_pk)
    department.members.remove(user)
    messages.success(
        request,
        _("%(user)s removed from %(department)s.") % {"user": user, "department": department},
    )
    return redirect("departments:detail", pk=department.pk)
