"""The audit trail page for Managers: filters, keyset paging (as fast on page 5,000 as on page 1:
no OFFSET, no COUNT of a year of entries), and the streamed CSV export of the same filters."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import islice
from urllib.parse import urlencode

from auditlog import get_logentry_model
from django.contrib.auth.decorators import permission_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from smsportal.core import audit
from smsportal.core.csv_export import streaming_csv
from smsportal.core.words import listed

from .forms import AuditFilterForm
from .labels import COUNTS, DETAILS, EXPORTS, FIELDS, kind_name
from .scope import visible_entries

PAGE_SIZE = 50
VIEW_PERMISSION = "core.view_auditentry"


def _entries(request: HttpRequest) -> QuerySet:
    """The entries the reader may see (scope.py: their departments' rows and the whole
    organisation's), newest first: the page, its filters and the export all start here."""
    entries = get_logentry_model().objects.select_related("content_type")
    return visible_entries(entries, request).order_by("-timestamp", "-id")


def _object_types() -> QuerySet:
    """The kinds of object the trail holds entries about (a short list: registered models and
    the objects of recorded actions). Asked kind by kind (one indexed look-up each, EXISTS …
    LIMIT 1), not as the DISTINCT kinds of every entry: that reads the whole trail, a year of
    a busy system, on every page. Not narrowed to what the reader may see (scope.py): a kind
    is the portal's word ("Message"), not a department's row, and asking whether one of a
    department's entries exists could read every message entry of the others to say no."""
    about = get_logentry_model().objects.filter(content_type=OuterRef("pk"))
    return ContentType.objects.filter(Exists(about)).order_by("model")


def _cursor(cursor: str) -> tuple[datetime, int] | None:
    """The time and id of the entry `cursor` (an id): the last entry of the page before."""
    if not cursor.isdigit():
        return None
    last = get_logentry_model().objects.filter(pk=int(cursor)).values("timestamp").first()
    return (last["timestamp"], int(cursor)) if last else None


def _page_entries(request: HttpRequest, form: AuditFilterForm, cursor: str) -> QuerySet:
    """The filtered entries, newest first, after the entry `cursor` if there is one (keyset:
    the page starts where the index says, however deep)."""
    after = _cursor(cursor)
    if after is None:
        return form.apply(_entries(request))
    stamp, pk = after
    entries = form.apply(_entries(request), not_after=stamp)
    return entries.filter(Q(timestamp__lt=stamp) | Q(timestamp=stamp, pk__lt=pk))


@permission_required(VIEW_PERMISSION, raise_exception=True)
def index(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None, object_types=_object_types())
    cursor = request.GET.get("before", "")
    page = list(_page_entries(request, form, cursor)[: PAGE_SIZE + 1])
    has_older = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    filters = {k: v for k, v in request.GET.items() if k != "before" and v}
    context = {
        "form": form,
        "entries": list(_rows(page)),
        "older_url": "?" + urlencode({**filters, "before": page[-1].pk}) if has_older else None,
        "first_url": "?" + urlencode(filters) if cursor else None,
        "export_url": reverse("audit:export") + "?" + urlencode(filters),
    }
    return render(request, "audit/index.html", context)


@permission_required(VIEW_PERMISSION, raise_exception=True)
def export(request: HttpRequest) -> HttpResponse:
    """Every entry the filters select, oldest first, streamed: a year of a busy system is read
    in chunks from the database and written as it goes, never held in memory."""
    form = AuditFilterForm(request.GET or None, object_types=_object_types())
    filters = {k: v for k, v in request.GET.items() if v}
    this_export = audit.record("exported", what="audit trail", filters=filters)
    # What existed when it was asked for: entries written while it streams are not in it.
    entries = form.apply(_entries(request)).filter(pk__lt=this_export.pk)
    entries = entries.order_by("timestamp", "id")
    rows = (_csv_row(row) for row in _rows(entries.iterator(chunk_size=2000)))
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return streaming_csv(f"audit-trail-{stamp}.csv", CSV_HEADER, rows)


CSV_HEADER = [
    "time",
    "user",
    "address",
    "action",
    "object type",
    "object id",
    "object",
    "changes",
    "details",
]


def _rows(entries: Iterable) -> Iterator[dict]:
    """The entries as the page and the export show them, a batch at a time: the rows a batch's
    changes point at by id (a contact list's department) are named with one query per kind."""
    entries = iter(entries)
    while batch := list(islice(entries, 500)):
        names = _names_of_related(batch)
        for entry in batch:
            yield _row(entry, names)


def _row(entry, names: dict) -> dict:
    return {
        "entry": entry,
        "when": timezone.localtime(entry.timestamp),
        "who": entry.actor_name or ("system" if not entry.actor_id else ""),
        "action": audit.EVENTS.get(entry.event, entry.event),
        "kind": kind_name(entry.content_type) if entry.content_type else "",
        "changes": list(_changes(entry, names)),
        "details": _details(entry),
    }


def _related_model(entry, field: str):
    """The model a changed field points at, if it is a foreign key; else None."""
    model = entry.content_type.model_class() if entry.content_type else None
    try:
        related = model._meta.get_field(field)
    except (AttributeError, FieldDoesNotExist):
        return None
    return related.related_model if related.many_to_one or related.one_to_one else None


def _names_of_related(entries) -> dict[tuple[type, str], str]:
    """{(model, id): name} of every row the entries' changes point at by foreign key."""
    wanted: dict[type, set[str]] = defaultdict(set)
    for entry in entries:
        for field, change in (entry.changes or {}).items():
            related = _related_model(entry, field)
            if related is not None and isinstance(change, list | tuple):
                wanted[related].update(str(v) for v in change if v not in (None, "None", ""))
    names = {}
    for related, ids in wanted.items():
        try:
            found = related._default_manager.in_bulk(list(ids))
        except (ValueError, ValidationError):  # an id this kind could never have
            continue
        names.update({(related, str(pk)): str(row) for pk, row in found.items()})
    return names


def _label(entry, field: str) -> str:
    """The field's name in the reader's language: from labels.FIELDS (stored secrets are named
    there for what they hold: their values are fingerprints, audit/masking.py), else as its
    model names it."""
    if field in FIELDS:
        return str(FIELDS[field])
    model = entry.content_type.model_class() if entry.content_type else None
    try:
        return str(model._meta.get_field(field).verbose_name)
    except (AttributeError, FieldDoesNotExist):  # no model, or a field since removed
        return field.replace("_", " ")


def _changes(entry, names: dict):
    """(field, before, after) for each changed field; a group or permission change says what
    was added or removed. A foreign key is named (`names`), or "#id" once its row is gone. A
    creation lists the values it was made with, no "before", and leaves out its id and its
    empty fields."""
    created = entry.action == get_logentry_model().Action.CREATE
    for field, change in (entry.changes or {}).items():
        if isinstance(change, dict) and change.get("type") == "m2m":
            objects = listed(change.get("objects", []))
            if change.get("operation") == "add":
                after = _("added: %(objects)s") % {"objects": objects}
            else:
                after = _("removed: %(objects)s") % {"objects": objects}
            yield _label(entry, field), "", after
        elif isinstance(change, list | tuple) and len(change) == 2:
            before, after = change
            if created and (field == "id" or after in (None, "None", "", "[]", "{}")):
                continue
            related = _related_model(entry, field)
            if related is not None:
                before, after = (_related_name(related, v, names) for v in (before, after))
            yield _label(entry, field), "" if created else _text(before), _text(after)


def _related_name(related, value, names: dict):
    if value in (None, "None", ""):
        return value
    return names.get((related, str(value)), f"#{value}")


def _details(entry) -> list[tuple[str, str]]:
    """An action's details as (name, text): "filters: q = ali", "to: a@x, b@x"."""
    rows = []
    for name, value in (entry.additional_data or {}).items():
        if isinstance(value, dict):
            value = listed(f"{k} = {v}" for k, v in value.items()) or _("none")
        elif isinstance(value, list):
            value = listed(value)
        elif name in COUNTS and isinstance(value, int) and not isinstance(value, bool):
            value = f"{value:,}"
        elif name == "what" and value in EXPORTS:
            value = EXPORTS[value]
        label = DETAILS.get(name) or name.replace("_", " ")
        rows.append((str(label), str(value)))
    return rows


def _text(value) -> str:
    if value is None or value == "None":
        return "—"
    if isinstance(value, bool) or value in ("True", "False", "true", "false"):  # a yes/no field
        return _("yes") if str(value).lower() == "true" else _("no")
    if isinstance(value, str) and re.fullmatch(r"hidden #\w+", value):  # audit/masking.py
        return _("hidden #%(fingerprint)s") % {"fingerprint": value.removeprefix("hidden #")}
    return value if isinstance(value, str) else json.dumps(value)


def _csv_row(row: dict) -> list:
    entry = row["entry"]
    changes = "; ".join(
        f"{field}: {before} → {after}" if before else f"{field}: {after}"
        for field, before, after in row["changes"]
    )
    details = json.dumps(entry.additional_data, ensure_ascii=False) if entry.additional_data else ""
    return [
        row["when"].isoformat(timespec="seconds"),
        row["who"],
        entry.remote_addr or "",
        row["action"],
        row["kind"],
        entry.object_pk,
        entry.object_repr,
        changes,
        details,
    ]
