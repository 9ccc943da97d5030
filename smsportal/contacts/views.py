"""Contacts, lists, opt-outs, imports, exports and remote lists: the pages."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from smsportal.core import audit
from smsportal.core.csv_export import streaming_csv
from smsportal.departments.models import Department
from smsportal.departments.scope import department_ids, sees_everything
from smsportal.providers.backends.base import ProviderError
from smsportal.providers.models import ProviderAccount

from . import remote, scope, selectors
from .forms import (
    BulkForm,
    ContactFieldForm,
    ContactForm,
    ContactListForm,
    ImportForm,
    ImportStartForm,
    OptOutForm,
)
from .importer import REJECTED_LINE_HEADER, REJECTED_REASON_HEADER, raw_cells
from .models import ContactField, ContactList, ImportJob, OptOut, RemoteListPush
from .preview import import_preview
from .reading import ENCODINGS
from .reasons import translated
from .search import ContactSearch
from .tasks import run_import
from .uploads import LimitedUploadHandler

PAGE_SIZE = 50
# The bulk action and list a refused bulk form chose, kept for the list page it goes back to.
BULK_CHOICE = "contacts.bulk_choice"


@dataclass
class KeysetPage:
    """A page of a newest-first list, found by id rather than by offset, so page 20,000 of a
    million contacts costs what page 1 does, and no COUNT(*) is needed."""

    items: list
    newer: int | None
    older: int | None


def keyset_page(source, request: HttpRequest, size: int = PAGE_SIZE) -> KeysetPage:
    """`source` is a queryset, or anything with `window(before=, after=, limit=)` (a search
    that pages in its index's own order)."""
    before, after = _int(request.GET.get("before", "")), _int(request.GET.get("after", ""))
    window = source.window if hasattr(source, "window") else partial(_window, source)
    if after is not None:
        rows = window(before=None, after=after, limit=size + 1)
        newer = len(rows) > size
        rows = rows[:size][::-1]
        return KeysetPage(
            rows, rows[0].pk if newer and rows else None, rows[-1].pk if rows else None
        )
    rows = window(before=before, after=None, limit=size + 1)
    older = len(rows) > size
    rows = rows[:size]
    return KeysetPage(
        rows,
        rows[0].pk if before is not None and rows else None,
        rows[-1].pk if older else None,
    )


def _window(queryset, *, before: int | None, after: int | None, limit: int) -> list:
    if after is not None:
        return list(queryset.filter(pk__gt=after).order_by("pk")[:limit])
    if before is not None:
        queryset = queryset.filter(pk__lt=before)
    return list(queryset.order_by("-pk")[:limit])


def _int(value: str) -> int | None:
    return int(value) if value and value.isdigit() else None


# --- contacts -----------------------------------------------------------------------------------


@permission_required("contacts.view_contact", raise_exception=True)
def contact_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    list_id = _listed(request)
    fields = list(ContactField.objects.all())
    field_filter = _field_filter(request, fields)
    page = keyset_page(_search(request, query, list_id, field_filter), request)
    names = dict(Department.objects.of(request.user).values_list("pk", "name"))
    if len(names) > 1:  # whose contact a row is, where the same number may be several's
        for contact in page.items:
            contact.department_name = names.get(contact.department_id, "")
    context = {
        "page": page,
        "query": query,
        "list_id": list_id,
        "lists": scope.lists_of(request),
        "own_lists": scope.own_lists(request),
        "no_department": not names,
        "fields": fields,
        "field_filter": field_filter or ("", request.GET.get("value", "")),
        "filters": _filters(query, list_id, field_filter),
        "bulk": request.session.pop(BULK_CHOICE, {}),
    }
    template = "contacts/contact_list.html"
    if request.htmx and request.htmx.target == "contact-table":
        template += "#contact-table"
    return render(request, template, context)


def _listed(request: HttpRequest) -> int | None:
    """The id of the list whose members are asked for (`?list=`). A list gone, or another
    department's not shared, is a 404, not an empty page or file: its members among the
    person's contacts (or the organisation's) would say who is on a list they may not see."""
    list_id = _int(request.GET.get("list", ""))
    if list_id:
        get_object_or_404(scope.lists_of(request), pk=list_id)
    return list_id


def _search(request, query: str, list_id: int | None, field) -> ContactSearch:
    """The person's departments' contacts matching the filters (all for a superuser)."""
    departments = None if sees_everything(request) else department_ids(request)
    return ContactSearch(query, list_id, field, departments=departments)


def _field_filter(request: HttpRequest, fields: list[ContactField]) -> tuple[str, str] | None:
    """(key, value) of the "field is value" filter, when a known field and a value are given."""
    key, value = request.GET.get("field", ""), request.GET.get("value", "").strip()
    if key and value and any(f.key == key for f in fields):
        return key, value
    return None


def _filters(query: str, list_id: int | None, field: tuple[str, str] | None = None) -> str:
    key, value = field or ("", "")
    given = {"q": query, "list": list_id or "", "field": key, "value": value}
    return urlencode({k: v for k, v in given.items() if v})


@permission_required("contacts.add_contact", raise_exception=True)
def contact_create(request: HttpRequest) -> HttpResponse:
    form = ContactForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        contact = form.save()
        messages.success(request, _("Contact %(contact)s added.") % {"contact": contact})
        return redirect("contacts:contact_list")
    return render(request, "contacts/contact_form.html", {"form": form})


@permission_required("contacts.change_contact", raise_exception=True)
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(scope.contacts_of(request), pk=pk)
    form = ContactForm(request.POST or None, instance=contact, user=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Contact %(contact)s saved.") % {"contact": contact})
        return redirect("contacts:contact_list")
    keys = {f.key for f in form.custom_fields}
    other = {k: v for k, v in (contact.attributes or {}).items() if k not in keys}
    context = {
        "form": form,
        "contact": contact,
        "lists": contact.lists.filter(pk__in=scope.lists_of(request)),
        "other_attributes": other,
        # Every send leaves this number out: the page says so, and why, instead of offering one.
        "optout": OptOut.objects.filter(phone=contact.phone).first(),
    }
    return render(request, "contacts/contact_form.html", context)


@require_POST
@permission_required("contacts.delete_contact", raise_exception=True)
def contact_delete(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(scope.contacts_of(request), pk=pk)
    contact.delete()
    messages.success(request, _("Contact %(contact)s deleted.") % {"contact": contact})
    return redirect("contacts:contact_list")


@require_POST
@permission_required("contacts.change_contact", raise_exception=True)
def contact_bulk(request: HttpRequest) -> HttpResponse:
    form = BulkForm(
        request.POST, contacts=scope.contacts_of(request), lists=scope.own_lists(request)
    )
    back = request.POST.get("next") or reverse("contacts:contact_list")
    if not back.startswith("/"):
        back = reverse("contacts:contact_list")
    if not form.is_valid():
        errors = " ".join(e for errs in form.errors.values() for e in errs)  # each a sentence
        messages.error(request, _("Nothing changed: %(errors)s") % {"errors": errors})
        # The list page shows the action and list chosen again, so a missed tick costs one tick.
        request.session[BULK_CHOICE] = {
            "action": request.POST.get("action", ""),
            "contact_list": request.POST.get("contact_list", ""),
        }
        return redirect(back)
    ids = [c.pk for c in form.cleaned_data["contacts"]]
    target = form.cleaned_data["contact_list"]
    action = form.cleaned_data["action"]
    if action == "add":
        added = target.add(ids)
        messages.success(
            request,
            ngettext(
                "%(added)s of %(count)s contact added to %(list)s.",
                "%(added)s of %(count)s contacts added to %(list)s.",
                len(ids),
            )
            % {"added": added, "count": len(ids), "list": target},
        )
    elif action == "remove":
        removed = target.remove(ids)
        messages.success(
            request,
            ngettext(
                "%(count)s contact removed from %(list)s.",
                "%(count)s contacts removed from %(list)s.",
                removed,
            )
            % {"count": removed, "list": target},
        )
    elif request.user.has_perm("contacts.delete_contact"):
        deleted = (
            scope.contacts_of(request).filter(pk__in=ids).delete()[1].get("contacts.Contact", 0)
        )
        messages.success(
            request,
            ngettext("%(count)s contact deleted.", "%(count)s contacts deleted.", deleted)
            % {"count": deleted},
        )
    return redirect(back)


@permission_required("contacts.view_contact", raise_exception=True)
def contact_export(request: HttpRequest) -> HttpResponse:
    """The contacts of a search or a list (or all), streamed: a million rows never sit in memory.
    Imports back unchanged (`attributes` is the extra columns as JSON)."""
    import json

    list_id = _listed(request)
    fields = list(ContactField.objects.all())
    search = _search(request, request.GET.get("q", ""), list_id, _field_filter(request, fields))
    contacts = search.queryset().order_by("id")
    keys = [f.key for f in fields]

    def row(phone, name, email, attributes):
        # Each custom field in its own column (headed by its label, which the import maps back
        # to the field); anything else in `attributes` stays one JSON cell.
        attributes = dict(attributes or {})
        values = [str(attributes.pop(key, "")) for key in keys]
        rest = json.dumps(attributes, ensure_ascii=False) if attributes else ""
        return (phone, name, email, *values, rest)

    rows = (
        row(*values)
        for values in contacts.values_list("phone", "name", "email", "attributes").iterator(
            chunk_size=5_000
        )
    )
    audit.record("exported", what="contacts", filters=dict(request.GET.items()))
    header = ["phone", "name", "email", *(f.label for f in fields), "attributes"]
    return streaming_csv("contacts.csv", header, rows)


# --- lists --------------------------------------------------------------------------------------


@permission_required("contacts.view_contactlist", raise_exception=True)
def list_list(request: HttpRequest) -> HttpResponse:
    context = {
        "lists": selectors.lists_with_counts(scope.lists_of(request)),
        "no_department": not Department.objects.of(request.user).exists(),
    }
    return render(request, "contacts/list_list.html", context)


@permission_required("contacts.add_contactlist", raise_exception=True)
def list_create(request: HttpRequest) -> HttpResponse:
    form = ContactListForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        contact_list = form.save()
        messages.success(request, _("List %(list)s created.") % {"list": contact_list})
        return redirect(contact_list)
    return render(request, "contacts/list_form.html", {"form": form})


@permission_required("contacts.change_contactlist", raise_exception=True)
def list_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact_list = get_object_or_404(scope.own_lists(request), pk=pk)
    form = ContactListForm(request.POST or None, instance=contact_list, user=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("List %(list)s saved.") % {"list": contact_list})
        return redirect(contact_list)
    return render(request, "contacts/list_form.html", {"form": form, "contact_list": contact_list})


@require_POST
@permission_required("contacts.delete_contactlist", raise_exception=True)
def list_delete(request: HttpRequest, pk: int) -> HttpResponse:
    contact_list = get_object_or_404(scope.own_lists(request), pk=pk)
    contact_list.delete()
    messages.success(
        request, _("List %(list)s deleted; its contacts stay.") % {"list": contact_list}
    )
    return redirect("contacts:list_list")


def _remote_accounts():
    return [
        a
        for a in ProviderAccount.objects.filter(is_active=True)
        if a.backend_class.capabilities.remote_lists
    ]


@permission_required("contacts.view_contactlist", raise_exception=True)
def list_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contact_list = get_object_or_404(scope.lists_of(request), pk=pk)
    pushes = contact_list.pushes.select_related("account")[:10]
    context = {
        "contact_list": contact_list,
        "size": contact_list.members.count(),
        "pushes": pushes,
        "remote_accounts": _remote_accounts(),
        "running": any(p.status == RemoteListPush.Status.RUNNING for p in pushes),
        # Another department's shared list: seen and sent to, not changed.
        "may_change": scope.own_lists(request).filter(pk=contact_list.pk).exists(),
    }
    template = "contacts/list_detail.html"
    if request.htmx and request.htmx.target == "pushes":
        template += "#pushes"
    return render(request, template, context)


@require_POST
@permission_required("contacts.change_contactlist", raise_exception=True)
def list_push(request: HttpRequest, pk: int) -> HttpResponse:
    contact_list = get_object_or_404(scope.own_lists(request), pk=pk)
    account = get_object_or_404(ProviderAccount, pk=_int(request.POST.get("account", "")) or 0)
    try:
        with transaction.atomic():
            push = contact_list.push_to(account, request.user)
    except ProviderError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Copying %(members)s members to “%(list)s” at %(account)s.")
            % {"members": f"{push.total:,}", "list": push.remote_name, "account": account},
        )
    return redirect(contact_list)


# --- remote lists -------------------------------------------------------------------------------


@permission_required("contacts.view_contactlist", raise_exception=True)
def remote_lists(request: HttpRequest, account_pk: int) -> HttpResponse:
    account = get_object_or_404(ProviderAccount, pk=account_pk)
    names, error = [], ""
    try:
        names = account.backend.remote_lists()
    except ProviderError as exc:
        error = str(exc)
    # Only copies of lists the person may see: another department's, and for anyone but a
    # superuser one the portal did not make, are left out (contacts/remote.py).
    copies = remote.copies_seen_by(request, account, names)
    own = remote.own_list_ids(request, copies.values())
    departments = list(Department.objects.of(request.user))
    context = {
        "account": account,
        "rows": [
            {
                "name": name,
                "push": push,
                "may_delete": remote.may_delete(request, push, own),
                # A send to a list is one department's message: chosen when the list may go
                # out for several of the user's (its own department's, or any for a shared one).
                "departments": [] if push is None else _departments_for(push, departments),
            }
            for name, push in copies.items()
        ],
        "error": error,
        "accounts": _remote_accounts(),
        "sees_all": sees_everything(request),
    }
    return render(request, "contacts/remote_lists.html", context)


def _departments_for(push, departments: list[Department]) -> list[Department]:
    """Of the user's `departments`, those a send to `push`'s copy may be for (`scope.not_for`)."""
    return [d for d in departments if not scope.not_for(d, [push.contact_list])]


@require_POST
@permission_required("contacts.delete_contactlist", raise_exception=True)
def remote_list_delete(request: HttpRequest, account_pk: int) -> HttpResponse:
    account = get_object_or_404(ProviderAccount, pk=account_pk)
    name = request.POST.get("name", "")
    push = remote.copy_at(account, name)
    if not remote.may_delete(request, push, remote.own_list_ids(request, [push])):
        messages.error(request, remote.not_yours(account, name))
        return redirect("contacts:remote_lists", account_pk=account.pk)
    try:
        account.backend.delete_remote_list(name)
    except ProviderError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("List “%(list)s” deleted at %(account)s.") % {"list": name, "account": account},
        )
    return redirect("contacts:remote_lists", account_pk=account.pk)


# --- opt-outs -----------------------------------------------------------------------------------


@permission_required("contacts.view_optout", raise_exception=True)
def optout_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    optouts = OptOut.objects.select_related("created_by")
    if query:
        digits = "".join(ch for ch in query if ch.isdigit())
        optouts = optouts.filter(phone__contains=digits) if digits else optouts.none()
    page = keyset_page(optouts, request)
    for optout in page.items:
        optout.may_lift = optout.may_be_lifted_by(request.user)
    context = {"page": page, "query": query, "form": OptOutForm()}
    return render(request, "contacts/optout_list.html", context)


@require_POST
@permission_required("contacts.add_optout", raise_exception=True)
def optout_create(request: HttpRequest) -> HttpResponse:
    form = OptOutForm(request.POST)
    if form.is_valid():
        optout, created = OptOut.objects.get_or_create(
            phone=form.cleaned_data["phone"],
            defaults={
                "reason": OptOut.Reason.MANUAL,
                "note": form.cleaned_data["note"],
                "created_by": request.user,
            },
        )
        if created:
            messages.success(
                request, _("%(phone)s will not be messaged.") % {"phone": optout.phone}
            )
        else:
            messages.info(request, _("%(phone)s was already opted out.") % {"phone": optout.phone})
    else:
        messages.error(request, " ".join(form.errors.get("phone", [_("Check the number.")])))
    return redirect("contacts:optout_list")


@require_POST
@permission_required("contacts.delete_optout", raise_exception=True)
def optout_delete(request: HttpRequest, pk: int) -> HttpResponse:
    optout = get_object_or_404(OptOut.objects.select_related("created_by"), pk=pk)
    if not optout.may_be_lifted_by(request.user):
        why = (
            _("the person asked for it")
            if optout.reason == OptOut.Reason.KEYWORD
            else _("a Manager added it")
        )
        messages.error(
            request,
            _("Only a Manager may remove the opt-out of %(phone)s: %(why)s.")
            % {"phone": optout.phone, "why": why},
        )
        return redirect("contacts:optout_list")
    optout.delete()
    messages.success(request, _("%(phone)s may be messaged again.") % {"phone": optout.phone})
    return redirect("contacts:optout_list")


# --- imports ------------------------------------------------------------------------------------


@csrf_exempt  # checked below, once the upload handlers are in place
@permission_required("contacts.add_importjob", raise_exception=True)
def import_create(request: HttpRequest) -> HttpResponse:
    # Handlers may be changed only before the body is read, which CSRF's check does.
    request.upload_handlers.insert(0, LimitedUploadHandler(request))
    return _import_create(request)


@csrf_protect
def _import_create(request: HttpRequest) -> HttpResponse:
    """Upload: the file is stored and previewed; nothing is imported until staff confirm."""
    form = ImportForm(
        request.POST or None,
        request.FILES or None,
        user=request.user,
        lists=scope.own_lists(request),
    )
    refused = getattr(request, "upload_refused", "")
    if request.method == "POST" and form.is_valid() and not refused:
        data = form.cleaned_data
        job = ImportJob.objects.create(
            status=ImportJob.Status.PREVIEW,
            file=data["file"],
            original_name=data["file"].name[:255],
            contact_list=data["contact_list"],
            department=data["department"],
            new_list=data["new_list"],
            region=data["region"],
            mode=data["mode"],
            dry_run=data["dry_run"],
            bytes_total=data["file"].size,
            created_by=request.user,
        )
        return redirect(job)
    if refused:
        form.errors["file"] = form.error_class([refused])
    recent = scope.imports_of(request).select_related("created_by")[:10]
    return render(request, "contacts/import_form.html", {"form": form, "recent": recent})


@require_POST
@permission_required("contacts.add_importjob", raise_exception=True)
def import_start(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(scope.imports_of(request), pk=pk, status=ImportJob.Status.PREVIEW)
    form = ImportStartForm(request.POST, detected=request.POST.get("encoding", ""))
    if not form.is_valid():
        messages.error(request, _("Choose how to read the file."))
        return redirect(job)
    with transaction.atomic():
        contact_list = job.contact_list
        if job.new_list and not job.dry_run:
            contact_list, _created = ContactList.objects.get_or_create(
                name=job.new_list, department=job.department
            )
        # Claimed by its status: a second click (or a second tab) never starts it twice.
        started = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.PREVIEW).update(
            status=ImportJob.Status.QUEUED,
            encoding=form.cleaned_data["encoding"],
            contact_list=contact_list,
        )
        if started:
            transaction.on_commit(lambda: run_import.enqueue(job.pk))
            audit.record("contacts_imported", job, list=str(contact_list or ""))
    return redirect(job)


@permission_required("contacts.view_importjob", raise_exception=True)
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(scope.imports_of(request).select_related("contact_list"), pk=pk)
    if job.status == ImportJob.Status.PREVIEW:
        return _import_preview(request, job)
    issues = job.rejections.order_by("line")
    context = {
        "job": job,
        "rejections": issues.filter(kept=False)[:100],
        "warnings": issues.filter(kept=True)[:100],
    }
    template = "contacts/import_detail.html"
    if request.htmx and request.htmx.target == "import-progress":
        template += "#import-progress"
    return render(request, template, context)


def _import_preview(request: HttpRequest, job: ImportJob) -> HttpResponse:
    chosen = request.GET.get("encoding", "")
    preview = import_preview(job, encoding=chosen if chosen in ENCODINGS else "")
    form = ImportStartForm(
        initial={"encoding": chosen or preview.encoding}, detected=preview.detected
    )
    return render(
        request, "contacts/import_preview.html", {"job": job, "preview": preview, "form": form}
    )


@permission_required("contacts.view_importjob", raise_exception=True)
def import_rejections(request: HttpRequest, pk: int) -> HttpResponse:
    """The rejected rows as the file had them, in its encoding and with its delimiter, each
    after its line and reason: corrected, the file imports as it is (those two columns are
    ignored)."""
    job = get_object_or_404(scope.imports_of(request), pk=pk)
    encoding, delimiter = job.rejected_file_format
    rows = (
        [line, translated(reason), *raw_cells(raw, delimiter)]
        for line, reason, raw in job.rejections.filter(kept=False)
        .order_by("line")
        .values_list("line", "reason", "raw")
        .iterator()
    )
    header = [REJECTED_LINE_HEADER, REJECTED_REASON_HEADER, *job.header]
    audit.record("exported", job, what="rejected rows of an import")
    return streaming_csv(
        f"rejected-rows-{job.pk}.csv", header, rows, delimiter=delimiter, encoding=encoding
    )


# --- custom fields ------------------------------------------------------------------------------


@permission_required("contacts.view_contactfield", raise_exception=True)
def field_list(request: HttpRequest) -> HttpResponse:
    """The custom fields, and (for those who may) a form to add one."""
    form = None
    if request.user.has_perm("contacts.add_contactfield"):
        form = ContactFieldForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            field = form.save()
            messages.success(
                request,
                _("Field %(field)s added: write %(placeholder)s.")
                % {"field": field.label, "placeholder": field.placeholder},
            )
            return redirect("contacts:field_list")
    elif request.method == "POST":
        raise PermissionDenied
    context = {"fields": ContactField.objects.all(), "form": form}
    return render(request, "contacts/field_list.html", context)


@permission_required("contacts.change_contactfield", raise_exception=True)
def field_edit(request: HttpRequest, pk: int) -> HttpResponse:
    field = get_object_or_404(ContactField, pk=pk)
    form = ContactFieldForm(request.POST or None, instance=field)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(
            request,
            _("Field renamed to %(field)s; messages still write it %(placeholder)s.")
            % {"field": field.label, "placeholder": field.placeholder},
        )
        return redirect("contacts:field_list")
    return render(request, "contacts/field_form.html", {"form": form, "field": field})


@require_POST
@permission_required("contacts.delete_contactfield", raise_exception=True)
def field_delete(request: HttpRequest, pk: int) -> HttpResponse:
    field = get_object_or_404(ContactField, pk=pk)
    with transaction.atomic():
        cleared = field.delete_values()
        field.delete()
    messages.success(
        request,
        ngettext(
            "Field %(field)s removed, with its value on %(count)s contact.",
            "Field %(field)s removed, with its value on %(count)s contacts.",
            cleared,
        )
        % {"field": field.label, "count": f"{cleared:,}"},
    )
    return redirect("contacts:field_list")
