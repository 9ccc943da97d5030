"""What of contacts a person (or an API key) may see and use (departments/scope.py): their
departments' contacts, imports and lists, and the lists any department shared. A shared list
is read and sent to by everyone, changed only by its own department (`own_lists`)."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext

from smsportal.departments.scope import visible

from .models import Contact, ContactList, ImportJob


def contacts_of(request_or_user) -> QuerySet[Contact]:
    return visible(Contact.objects.all(), request_or_user)


def lists_of(request_or_user) -> QuerySet[ContactList]:
    """Lists that may be seen and sent to: the person's departments', and shared ones."""
    return visible(ContactList.objects.all(), request_or_user, also=Q(shared=True))


def for_department(lists: QuerySet[ContactList], department) -> QuerySet[ContactList]:
    """Of `lists` (those the person may see: `lists_of`), the ones a message for `department`
    may go to: that department's, the shared ones and those of no department (the rule
    `not_for` checks). Without a department (the person has none to choose), all of them.
    Narrowing what `lists_of` gave, a form that needs both asks for the person's departments
    once."""
    if department is None:
        return lists
    return lists.filter(Q(department=department) | Q(department__isnull=True) | Q(shared=True))


def own_lists(request_or_user) -> QuerySet[ContactList]:
    """Lists that may be changed (renamed, deleted, members added or removed)."""
    return visible(ContactList.objects.all(), request_or_user)


def imports_of(request_or_user) -> QuerySet[ImportJob]:
    return visible(ImportJob.objects.all(), request_or_user)


def not_for(department, lists) -> list[ContactList]:
    """Of the chosen `lists`, those a message for `department` may not go to: another
    department's list it did not share. A person in two departments sees both's lists, but a
    message for one goes only to that one's lists and shared ones (it counts against that
    department's quota, and the other's members are not its contacts)."""
    if department is None:
        return []
    return [
        chosen
        for chosen in lists
        if chosen.department_id not in (None, department.pk) and not chosen.shared
    ]


def not_for_error(department, chosen: ContactList) -> str:
    return gettext(
        "%(list)s is a list of %(owner)s, not of %(department)s: send it for %(owner)s, "
        "or ask them to share it."
    ) % {
        "list": chosen.name,
        "owner": chosen.department,
        "department": department,
    }
