"""What of the audit trail a reader may see: the department rule (departments/scope.py) applied
to the rows the entries are about.

A superuser sees every entry. Anyone else sees
- entries about nothing (a failed log-in, an export) and about the whole organisation's kinds of
  row (provider accounts, sender IDs, users, departments, opt-outs …);
- entries about a department's row (a model with a foreign key to Department, or one owned
  through its parent: OWNED_THROUGH) while that row is of one of their departments or of none;
- entries about such a row since deleted only when the entry itself names the department (a
  creation or deletion lists every field the row had, a change the department it moved to or
  from) and it is theirs; a creation or deletion naming none was of a row of no department.
  An entry that tells nothing of the row's department (a change of its name) is hidden once the
  row is gone: the trail cannot say whose it was.

One filter of the entries' own query, which looks the entry's row up by its primary key (the
entry's `object_id`): a page reads its entries down the newest-first index (audit_newest) with
one primary-key look-up each for an entry about a department's row, whatever the size of the
contacts or messages tables. A reader of a department with little in the trail walks past the
others' entries to fill a page: 5,500 of them cost about 15 ms (docs/departments.md).
"""

from __future__ import annotations

from auditlog import get_logentry_model
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    Case,
    Exists,
    F,
    IntegerField,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from smsportal.departments.models import Department
from smsportal.departments.scope import department_ids, sees_everything

# Rows whose department is their parent's, by "app_label.model": the foreign key to the parent.
# None is in the trail today (their bulk writes are recorded as one event each, see
# registration.py); named so that one registered or recorded later is its department's, not
# shown to every department.
OWNED_THROUGH = {
    "contacts.membership": "contact_list",
    "contacts.importrejection": "job",
    "contacts.remotelistpush": "contact_list",
    "messaging.delivery": "message",
    "recurring.occurrence": "schedule",
    "api.apimessage": "message",
    "quotas.usage": "quota",
}


def department_field(model: type[Model]) -> str | None:
    """The name of the model's own foreign key to Department, if it has one."""
    for field in model._meta.concrete_fields:
        if field.many_to_one and field.related_model is Department:
            return field.name
    return None


def owner_path(model: type[Model]) -> str | None:
    """The lookup from a row of `model` to its department ("department",
    "contact_list__department"), or None for a kind of row that is the whole organisation's."""
    own = department_field(model)
    if own is not None:
        return own
    parent = OWNED_THROUGH.get(model._meta.label_lower)
    if parent is None:
        return None
    return f"{parent}__{department_field(model._meta.get_field(parent).related_model)}"


def _department_owned() -> dict[type[Model], str]:
    """{model: owner_path} of every installed model that belongs to a department."""
    owned = {model: owner_path(model) for model in apps.get_models()}
    return {model: path for model, path in owned.items() if path is not None}


def visible_entries(entries: QuerySet, request_or_user) -> QuerySet:
    """`entries` narrowed to those the person may read (the module's rule)."""
    if sees_everything(request_or_user):
        return entries
    ids = department_ids(request_or_user)
    owned = _department_owned()
    kinds = ContentType.objects.get_for_models(*owned)  # cached by Django after the first ask
    readable = Q(content_type__isnull=True) | ~Q(content_type__in=list(kinds.values()))
    # A kind with no entry needs no look-up: its entries are hidden, as one written meanwhile.
    in_trail = _kinds_in_trail([kind.pk for kind in kinds.values()])
    owned = {model: path for model, path in owned.items() if kinds[model].pk in in_trail}
    if not owned:
        return entries.filter(readable)
    entries = entries.alias(row_department=_row_department(owned, kinds))
    readable |= Q(row_department__in=[NO_DEPARTMENT, *ids])
    # A row since deleted (no department to read: NULL), if the entry names its department.
    told = Q(pk__in=[])
    for field in {department_field(model) for model in owned} - {None}:
        naming = [kinds[model] for model in owned if department_field(model) == field]
        told |= Q(content_type__in=naming) & _names_their_department(field, ids)
    return entries.filter(readable | (told & Q(row_department__isnull=True)))


NO_DEPARTMENT = 0  # the row is there, of no department: everyone's


def _row_department(owned: dict[type[Model], str], kinds: dict) -> Case:
    """The department of the row the entry is about: its id, NO_DEPARTMENT, or NULL when the
    row is gone (-1 for a kind not looked up). A scalar subquery by primary key: unlike an
    EXISTS, PostgreSQL cannot turn it into a hash of the whole table (it did: a sequential
    scan of every contact on each page), so each entry the page reads costs one index probe."""
    whens = []
    for model, path in owned.items():
        row = model._default_manager.filter(pk=OuterRef("object_id"))
        department = row.values(of=Coalesce(F(path), Value(NO_DEPARTMENT)))
        whens.append(When(content_type=kinds[model], then=Subquery(department)))
    return Case(*whens, default=Value(-1), output_field=IntegerField())


def _kinds_in_trail(kinds: list[int]) -> set[int]:
    """Those of `kinds` (content type ids) the trail holds an entry about: one indexed probe
    each (EXISTS … LIMIT 1 on the entries' content type)."""
    about = get_logentry_model().objects.filter(content_type=OuterRef("pk"))
    found = ContentType.objects.filter(pk__in=kinds).filter(Exists(about))
    return set(found.values_list("pk", flat=True))


def _names_their_department(field: str, ids: list[int]) -> Q:
    """The entry's changes name one of `ids` as the row's department, before or after; or the
    entry is a creation or a deletion, which lists every field the row had, without one: a
    row of no department."""
    named = Q(**{f"changes__{field}__0__in": ids}) | Q(**{f"changes__{field}__1__in": ids})
    action = get_logentry_model().Action
    whole = Q(action__in=[action.CREATE, action.DELETE], changes__isnull=False)
    return named | (whole & ~Q(changes__has_key=field))
