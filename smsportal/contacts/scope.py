"""What of contacts a person (or an API key) may see and use (departments/scope.py): their
departments' contacts, imports and lists, and the lists any department shared. A shared list
is read and sent to by everyone, changed only by its own department (`own_lists`)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from smsportal.departments.scope import visible

from .models import Contact, ContactList, ImportJob


def contacts_of(request_or_user) -> QuerySet[Contact]:
    return visible(Contact.objects.all(), request_or_user)


def lists_of(request_or_user) -> QuerySet[ContactList]:
    """Lists that may be seen and sent to: the person's departments', and shared ones."""
    return visible(ContactList.objects.all(), request_or_user, also=Q(shared=True))


def own_lists(request_or_user) -> QuerySet[ContactList]:
    """Lists that may be changed (renamed, deleted, members added or removed)."""
    return visible(ContactList.objects.all(), request_or_user)


def imports_of(request_or_user) -> QuerySet[ImportJob]:
    return visible(ImportJob.objects.all(), request_or_user)
