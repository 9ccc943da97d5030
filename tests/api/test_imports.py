"""POST /imports and GET /imports/{id}: the contacts pages' import task, started by another
system; bad uploads are a problem detail and create nothing."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from smsportal.contacts.models import Contact, ContactList, ImportJob

pytestmark = pytest.mark.django_db

URL = "/api/v1/imports"
CSV = b"name,phone\nAli,+96597119440\nMona,97119441\nNobody,12\n"


@pytest.fixture
def call(operator, key_for):
    return key_for(operator, ["contacts"])


@pytest.fixture
def upload(call, django_capture_on_commit_callbacks):
    def _upload(data=CSV, name="people.csv", **fields):
        body = dict(fields)
        if data is not None:
            body["file"] = SimpleUploadedFile(name, data)
        with django_capture_on_commit_callbacks(execute=True):
            return call.client.post(
                URL, data=body, headers={"Authorization": f"Bearer {call.secret}"}
            )

    return _upload


def problem(answer, status: int, code: str) -> dict:
    assert answer.status_code == status, answer.content
    assert answer["Content-Type"] == "application/problem+json"
    data = answer.json()
    assert data["code"] == code and data["title"] and data["detail"]
    assert not ImportJob.objects.exists()
    assert not Contact.objects.exists()
    return data


def test_an_upload_is_imported_into_the_list_and_reports_its_rejected_rows(upload, call):
    staff = ContactList.objects.create(name="Staff")
    answer = upload(contact_list=str(staff.pk), region="KW")

    assert answer.status_code == 202, answer.content
    job = ImportJob.objects.get()
    assert answer["Location"] == f"/api/v1/imports/{job.pk}"
    assert answer.json()["status"] == "queued"
    report = call("GET", answer["Location"]).json()
    assert report["status"] == "done" and report["finished"] and report["percent"] == 100
    assert (report["rows"], report["created"], report["rejected"]) == (3, 2, 1)
    assert report["contact_list"] == staff.pk and report["file_name"] == "people.csv"
    [row] = report["rejected_rows"]
    assert row["line"] == 4 and "Nobody,12" in row["raw"] and row["reason"]
    assert report["rejected_rows_complete"] is True
    assert set(staff.phones()) == {"+96597119440", "+96597119441"}


def test_a_new_list_is_made_and_a_spreadsheet_is_read(upload):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["name", "phone"])
    book.active.append(["Ali", "+96597119440"])
    data = io.BytesIO()
    book.save(data)

    answer = upload(data.getvalue(), name="people.xlsx", new_list="From billing")

    assert answer.status_code == 202, answer.content
    made = ContactList.objects.get(name="From billing")
    assert list(made.phones()) == ["+96597119440"]
    assert ImportJob.objects.get().status == ImportJob.Status.DONE


def test_a_dry_run_counts_and_changes_nothing(upload, call):
    answer = upload(dry_run="true", new_list="Never made")

    report = call("GET", answer["Location"]).json()
    assert report["dry_run"] is True and report["created"] == 2
    assert not Contact.objects.exists() and not ContactList.objects.exists()


def test_a_file_in_another_encoding_is_read_as_told(upload):
    answer = upload("name,phone\nعلي,+96597119440\n".encode("cp1256"), encoding="cp1256")

    assert answer.status_code == 202, answer.content
    assert Contact.objects.get().name == "علي"


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"contact_list": "abc"}, "contact_list", "invalid_choice"),
        ({"contact_list": "99999"}, "contact_list", "invalid_choice"),
        ({"region": "XX"}, "region", "invalid"),
        ({"mode": "merge"}, "mode", "invalid_choice"),
        ({"dry_run": "maybe"}, "dry_run", "invalid"),
        ({"encoding": "klingon"}, "encoding", "invalid_choice"),
        ({"lists": "1"}, "lists", "unknown_field"),
    ],
)
def test_bad_fields_are_named_and_nothing_is_made(upload, fields, field, code):
    data = problem(upload(**fields), 400, "invalid_request")
    assert {"field": field, "code": code} in [
        {"field": e["field"], "code": e["code"]} for e in data["errors"]
    ]


def test_a_list_and_a_new_list_together_are_refused(upload):
    staff = ContactList.objects.create(name="Staff")
    data = problem(upload(contact_list=str(staff.pk), new_list="Other"), 400, "invalid_request")
    assert data["errors"][0]["field"] == "new_list"


def test_no_file_or_an_empty_file_is_refused(upload):
    assert problem(upload(None), 400, "invalid_request")["errors"][0]["field"] == "file"
    data = problem(upload(b""), 400, "invalid_request")
    assert data["errors"][0]["field"] == "file"


@pytest.mark.parametrize(
    "size",
    [
        3 * 2**20,  # refused on the length the request declares, before reading it
        3 * 2**19,  # within a megabyte of the limit: stopped while it streams in
    ],
)
def test_a_file_over_the_limit_is_413_and_not_stored(upload, settings, size):
    settings.IMPORT_MAX_UPLOAD_MB = 1
    data = problem(upload(b"name,phone\n" + b"x" * size), 413, "body_too_large")
    assert "the limit is 1 MB" in data["detail"]


def test_json_is_415(call):
    problem(call("POST", URL, {"file": "people.csv"}), 415, "unsupported_media_type")


def test_an_import_not_started_on_the_page_or_unknown_is_404(call, operator):
    previewed = ImportJob.objects.create(
        status=ImportJob.Status.PREVIEW, original_name="x.csv", region="KW", created_by=operator
    )
    assert call("GET", f"{URL}/{previewed.pk}").status_code == 404
    assert call("GET", f"{URL}/999999").json()["code"] == "not_found"
