"""The department a row is made for, chosen on the forms that make one (compose, API keys,
recurring sends, contacts, lists, templates): a select of the user's departments when they have
several, fixed when they have one, refused with the reason when they have none."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext, gettext_lazy

from smsportal.core.prepared import Prepared

from .models import Department


def no_department_text() -> str:
    return gettext("You are in no department: ask a Manager to add you to one.")


# The first two of a user's departments (is there a choice to make?), asked by every form that
# sends for a department, the compose preview's on each keystroke: the SQL compiled once
# (core/prepared.py), the rows read afresh. The same rule as Department.objects.of.
_first_two_of_all = Prepared(lambda: Department.objects.all()[:2])
_first_two_of_member = Prepared(lambda user_id: Department.objects.filter(members=user_id)[:2], int)


def first_two_of(user) -> list[Department]:
    """`Department.objects.of(user)[:2]`, in order."""
    if not user.is_authenticated:
        return []
    if user.is_superuser:
        return _first_two_of_all()
    return _first_two_of_member(user.pk)


class DepartmentField(forms.ModelChoiceField):
    """Call `limit_to(user)` in the form's __init__: until then it offers nothing."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", gettext_lazy("Department"))
        super().__init__(Department.objects.none(), empty_label=None, **kwargs)
        self.only: Department | None = None
        self.first: Department | None = None  # the one the select shows first
        self.no_department = False  # until limit_to: an empty value is None
        self.known: Department | None = None  # the department `chosen` found by its id

    def limit_to(self, user) -> None:
        self.queryset = Department.objects.of(user)
        first_two = first_two_of(user)
        self.no_department = not first_two
        self.first = first_two[0] if first_two else None
        self.only = first_two[0] if len(first_two) == 1 else None
        if self.only is not None:
            # One department: nothing to choose; the page shows its name (`only`).
            self.widget = forms.HiddenInput()
            self.initial = self.only.pk

    def chosen(self, value) -> Department | None:
        """The department a form is being filled in for: `value` (the posted or initial id)
        if it is one of the user's, else the one the select shows first; None when the user
        has none. Other fields (lists, templates) offer what belongs to it."""
        if self.only is not None:
            return self.only
        if str(value or "").isdigit():
            named = self.queryset.filter(pk=int(value)).first()
            if named is not None:
                self.known = named
                return named
        return self.first

    def clean(self, value):
        if self.no_department:
            raise forms.ValidationError(no_department_text(), code="no_department")
        if value in self.empty_values and self.only is not None:
            return self.only
        # The department already read from the user's for this form (the only one, or the one
        # `chosen` found): the same row the field's own lookup would read again.
        for known in (self.only, self.known):
            if known is not None and str(value) == str(known.pk):
                self.validate(known)
                self.run_validators(known)
                return known
        return super().clean(value)


def chosen_department(user, value) -> Department | None:
    """The department `value` (a posted id) names among the user's, or their only one when
    nothing was chosen; None otherwise (the send then refuses, saying why)."""
    mine = Department.objects.of(user)
    if str(value or "").isdigit():
        return mine.filter(pk=int(value)).first()
    first_two = list(mine[:2])
    return first_two[0] if len(first_two) == 1 else None
