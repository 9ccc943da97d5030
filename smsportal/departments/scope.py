"""The one rule for rows that belong to a department: a person (or an API key) sees and uses
their departments' rows and the rows of no department (the whole organisation's); a superuser
on the pages sees every row. Feature apps build their querysets on `visible` so another
department's id is "not found" (404), never a page."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from smsportal.core.prepared import Prepared

from .models import Department


def departments_of(request_or_user) -> QuerySet[Department]:
    """The departments of a request's user; through an API key, only the key's department (and
    only while its user is still in it)."""
    user = getattr(request_or_user, "user", request_or_user)
    departments = Department.objects.of(user)
    key = getattr(request_or_user, "auth", None)
    if key is not None and hasattr(key, "department_id"):
        departments = departments.filter(pk=key.department_id)
    return departments


# A member's department ids, asked by every page and fragment an Operator or Manager opens
# (the compose preview on each keystroke): the SQL compiled once per connection
# (core/prepared.py), the ids read afresh on every call. The rule of Department.objects.of.
_ids_of_member = Prepared(
    lambda user_id: Department.objects.filter(members=user_id).values_list("pk", flat=True), int
)


def department_ids(request_or_user) -> list[int]:
    """The same, as ids: a short list the database compares by index (a subquery would defeat
    the (department, ordering) indexes' ordered scans)."""
    user = getattr(request_or_user, "user", request_or_user)
    key = getattr(request_or_user, "auth", None)
    member = getattr(user, "is_authenticated", False) and not user.is_superuser
    if member and not (key is not None and hasattr(key, "department_id")):
        return _ids_of_member(user.pk)
    return list(departments_of(request_or_user).values_list("pk", flat=True))


def sees_everything(request_or_user) -> bool:
    user = getattr(request_or_user, "user", request_or_user)
    key = getattr(request_or_user, "auth", None)
    return bool(getattr(user, "is_superuser", False)) and key is None


def visible(rows: QuerySet, request_or_user, *, also: Q | None = None) -> QuerySet:
    """`rows` narrowed to those of the person's departments or of none (`also`: more rows
    they may see, such as lists shared with everyone)."""
    ids = None if sees_everything(request_or_user) else department_ids(request_or_user)
    return within(rows, ids, also=also)


def within(rows: QuerySet, ids: list[int] | None, *, also: Q | None = None) -> QuerySet:
    """`visible` for a page that already holds the person's department ids (`None`: every
    row), and needs them for more than the filter (whether they are in any department)."""
    if ids is None:
        return rows
    condition = Q(department_id__in=ids) | Q(department__isnull=True)
    if also is not None:
        condition |= also
    return rows.filter(condition)
