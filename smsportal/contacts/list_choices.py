"""The Lists field of a form that sends for a department (Compose, recurring sends).

It offers the lists of the department chosen on the form (and shared ones), and the page swaps
it in place when the department changes (htmx). It still accepts any list the person may see:
a list of another of their departments is then refused by the form's `not_for` check, with the
reason, rather than as "not one of the available choices" — which is what a page without
JavaScript, still showing the first department's lists after another was chosen, would get.
"""

from __future__ import annotations

from django import forms
from django.db.models import QuerySet
from django.forms.models import ModelChoiceIterator

from .models import ContactList
from .scope import for_department, lists_of


def offer_department_lists(form: forms.BaseForm, user, department) -> QuerySet[ContactList]:
    """Limit `form`'s "lists" field to what `user` may send to, offer those `department` (the
    one chosen on the form, `DepartmentField.chosen`) may send to, and return the offered
    ones."""
    field = form.fields["lists"]
    accepted = lists_of(user)  # what is accepted (then checked by `not_for`)
    field.queryset = accepted
    # Narrowed from the accepted lists: the person's departments read once, not twice.
    offered = for_department(accepted, department).select_related("department")
    choices = ModelChoiceIterator(field)
    choices.queryset = offered
    field.widget.choices = choices  # what is shown
    return offered
