"""Imports: a CSV or XLSX of contacts uploaded by another system, imported by the contacts
pages' own import task (`contacts.tasks.run_import`) with the upload page's rules
(`contacts.forms.ImportForm`): the same reading, checks, counts and rejected rows.

An upload through the API skips the page's preview (no one is there to look at it): it is
queued at once, read as found, or in the `encoding` given. The answer is 202 with the import's
URL; `GET /imports/{id}` tells its progress, counts and the rows it rejected.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import parsers, serializers, status
from rest_framework.response import Response

from smsportal.contacts.forms import ImportForm, ImportStartForm
from smsportal.contacts.models import ContactList, ImportJob
from smsportal.contacts.scope import imports_of, own_lists
from smsportal.contacts.tasks import run_import
from smsportal.contacts.uploads import LimitedUploadHandler, max_upload_bytes, too_big
from smsportal.core import audit

from ..problems import Problem
from .base import ApiGenericView

CONTACTS = "contacts"
ROWS_SHOWN = 1_000  # rejected rows (and rows kept with a warning) in one answer
FIELDS = ("file", "contact_list", "new_list", "region", "mode", "dry_run", "encoding")
BOOLEANS = {"true": True, "false": False}


@extend_schema_field({"type": "string", "format": "binary"})
class UploadField(serializers.FileField):
    """An uploaded file, documented in the schema as binary (a multipart part)."""


class ImportRequestSerializer(serializers.Serializer):
    """The multipart form of POST /imports (documentation; the checks are ImportForm's)."""

    file = UploadField(help_text="CSV (any common delimiter and encoding) or XLSX.")
    contact_list = serializers.IntegerField(
        required=False, help_text="Add every contact to this list (id)."
    )
    new_list = serializers.CharField(
        required=False, help_text="…or to a new list of this name, made when the import starts."
    )
    region = serializers.CharField(
        required=False,
        help_text="Country (ISO code) of numbers written without + or 00; default: the portal's.",
    )
    mode = serializers.ChoiceField(
        choices=ImportJob.Mode.values,
        required=False,
        help_text="update (default) or skip contacts that exist.",
    )
    dry_run = serializers.ChoiceField(
        choices=["true", "false"], required=False, help_text="true: check and count only."
    )
    encoding = serializers.CharField(
        required=False, help_text="Read a CSV in this encoding (e.g. cp1256); default: detect."
    )


class RowSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="Line of the file (the header is line 1).")
    reason = serializers.CharField()
    raw = serializers.CharField(help_text="The row as the file has it.")


class ImportSerializer(serializers.ModelSerializer):
    file_name = serializers.CharField(source="original_name")
    contact_list = serializers.PrimaryKeyRelatedField(read_only=True)
    percent = serializers.IntegerField(help_text="Share of the file read so far.")
    finished = serializers.BooleanField()
    rejected_rows = serializers.SerializerMethodField()
    rejected_rows_complete = serializers.SerializerMethodField()
    warned_rows = serializers.SerializerMethodField(
        help_text="Rows imported with a change (a name cut to fit), and why."
    )
    warned_rows_complete = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "status",
            "file_name",
            "contact_list",
            "region",
            "mode",
            "dry_run",
            "percent",
            "finished",
            "rows",
            "created",
            "updated",
            "unchanged",
            "rejected",
            "warned",
            "error",
            "rejected_rows",
            "rejected_rows_complete",
            "warned_rows",
            "warned_rows_complete",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields

    def _rows(self, job: ImportJob, kept: bool) -> list[dict]:
        found = job.rejections.filter(kept=kept).order_by("line")
        return list(found.values("line", "reason", "raw")[:ROWS_SHOWN])

    @extend_schema_field(RowSerializer(many=True))
    def get_rejected_rows(self, job: ImportJob) -> list[dict]:
        return self._rows(job, kept=False)

    def get_rejected_rows_complete(self, job: ImportJob) -> bool:
        return job.rejected <= ROWS_SHOWN

    @extend_schema_field(RowSerializer(many=True))
    def get_warned_rows(self, job: ImportJob) -> list[dict]:
        return self._rows(job, kept=True)

    def get_warned_rows_complete(self, job: ImportJob) -> bool:
        return job.warned <= ROWS_SHOWN


def file_too_big(detail: str) -> Problem:
    return Problem(
        status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "body_too_large", _("File too large"), detail
    )


def form_errors(*forms) -> dict:
    """A Django form's errors as DRF's, each keeping its code (invalid_choice, required, ...)."""
    errors: dict = {}
    for form in forms:
        for name, found in form.errors.as_data().items():
            field = "file" if name == "__all__" else name
            errors.setdefault(field, []).extend(
                serializers.ErrorDetail(message, code=error.code or "invalid")
                for error in found
                for message in error.messages
            )
    return errors


class ImportListView(ApiGenericView):
    access = {"POST": (CONTACTS, ["contacts.add_importjob"])}
    parser_classes = [parsers.MultiPartParser]
    serializer_class = ImportSerializer

    @property
    def max_body_bytes(self) -> int:
        # the file and the other fields: a body over the file limit by more than a megabyte
        # holds a file over it (as contacts/uploads.py reasons)
        return max_upload_bytes() + 2**20

    def initial(self, request, *args, **kwargs):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > self.max_body_bytes:
            raise file_too_big(too_big(length))
        # Before the body is read: an upload past the limit is stopped while it streams in.
        request._request.upload_handlers.insert(0, LimitedUploadHandler(request._request))
        super().initial(request, *args, **kwargs)

    @extend_schema(
        request={"multipart/form-data": ImportRequestSerializer},
        responses={202: ImportSerializer},
        operation_id="imports_create",
        summary="Import contacts from a CSV or XLSX file",
    )
    def post(self, request):
        data, files = request.data, request.FILES
        refused = getattr(request._request, "upload_refused", "")
        if refused:
            raise file_too_big(refused)
        unknown = sorted(set(data) - set(FIELDS))
        if unknown:
            raise serializers.ValidationError(
                {
                    name: [serializers.ErrorDetail(_("Unknown field."), code="unknown_field")]
                    for name in unknown
                }
            )
        fields = {name: data.get(name) for name in FIELDS if name in data and name != "file"}
        fields.setdefault("region", settings.PHONE_DEFAULT_REGION)
        fields.setdefault("mode", ImportJob.Mode.UPDATE)
        dry_run = BOOLEANS.get(fields.pop("dry_run", "false"))
        # The contacts are the key's department's (its only one for a key made before them).
        if getattr(request.auth, "department_id", None):
            fields["department"] = str(request.auth.department_id)
        upload = ImportForm(
            fields | {"dry_run": dry_run or ""},
            files,
            user=request.user,
            lists=own_lists(request),
        )
        reading = ImportStartForm({"encoding": fields.get("encoding", "")})
        errors = form_errors(upload, reading)
        if dry_run is None:
            errors["dry_run"] = [
                serializers.ErrorDetail(_("true or false is required."), code="invalid")
            ]
        if errors:
            raise serializers.ValidationError(errors)
        job = queue(upload.cleaned_data, reading.cleaned_data["encoding"], request.user)
        return Response(
            ImportSerializer(job).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": f"/api/v1/imports/{job.pk}"},
        )


def queue(cleaned: dict, encoding: str, user) -> ImportJob:
    """The import as the page's upload and Start make it, without the preview between them."""
    upload = cleaned["file"]
    with transaction.atomic():
        contact_list = cleaned["contact_list"]
        if cleaned["new_list"] and not cleaned["dry_run"]:
            contact_list, _made = ContactList.objects.get_or_create(
                name=cleaned["new_list"], department=cleaned["department"]
            )
        job = ImportJob.objects.create(
            status=ImportJob.Status.QUEUED,
            file=upload,
            original_name=upload.name[:255],
            encoding=encoding,
            contact_list=contact_list,
            department=cleaned["department"],
            new_list=cleaned["new_list"],
            region=cleaned["region"],
            mode=cleaned["mode"],
            dry_run=cleaned["dry_run"],
            bytes_total=upload.size,
            created_by=user,
        )
        audit.record("contacts_imported", job, list=str(contact_list or ""))
        transaction.on_commit(lambda: run_import.enqueue(job.pk))
    return job


class ImportDetailView(ApiGenericView):
    access = {"GET": (CONTACTS, ["contacts.view_importjob"])}
    serializer_class = ImportSerializer

    @extend_schema(operation_id="imports_retrieve", summary="Progress and rejected rows")
    def get(self, request, pk: int):
        found = (
            imports_of(request)
            .select_related("contact_list")
            .exclude(
                status=ImportJob.Status.PREVIEW  # an upload on the page, not yet started
            )
        )
        return Response(ImportSerializer(get_object_or_404(found, pk=pk)).data)
