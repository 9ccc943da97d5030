"""Import uploads and the files that come back: the upload stopped at its limit as it streams,
deleted after the import, rejected rows in the input's own encoding and delimiter, exports that
keep formulas inert and fail before their first byte."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.test import TestCase
from django.utils import timezone

from smsportal.contacts.models import Contact, ImportJob
from smsportal.contacts.uploads import purge_uploads
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def upload_and_start(client, data: bytes, name="people.csv", **fields):
    """Upload, read the preview, start the import in the encoding it found; the finished job."""
    response = client.post(
        "/contacts/imports/",
        {"region": "KW", "mode": "update", **fields, "file": SimpleUploadedFile(name, data)},
    )
    assert response.status_code == 302, response.context["form"].errors
    job = ImportJob.objects.latest("pk")
    preview = client.get(response.url).context["preview"]
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(f"/contacts/imports/{job.pk}/start/", {"encoding": preview.encoding})
    job.refresh_from_db()
    return job


def download(client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_the_preview_shows_the_encoding_found_and_reads_again_in_another(operator_client):
    data = "name;phone\nعلي محمد;+96597119440\nJosé;+96597119441\n".encode("cp1256", "replace")
    response = operator_client.post(
        "/contacts/imports/",
        {"region": "KW", "mode": "update", "file": SimpleUploadedFile("a.csv", data)},
    )
    job = ImportJob.objects.get()
    assert job.status == "preview" and not Contact.objects.exists()
    page = operator_client.get(response.url).content.decode()
    assert "Arabic (Windows-1256) (found in the file)" in page
    assert "علي محمد" in page and "becomes phone" in page
    page = operator_client.get(response.url, {"encoding": "latin-1"}).content.decode()
    assert "Read as <strong>CSV, Latin-1 (ISO-8859-1), semicolon-separated" in page
    assert "علي محمد" not in page


def test_starting_twice_imports_once(operator_client):
    job = upload_and_start(operator_client, b"phone\n+96597119440\n")
    second = operator_client.post(f"/contacts/imports/{job.pk}/start/", {"encoding": "utf-8"})
    assert second.status_code == 404
    assert ImportJob.objects.get().created == 1


def test_rejected_rows_of_an_arabic_semicolon_file_download_as_it_was_written(operator_client):
    data = "name;phone\nعلي;12\nسارة;+96597119441\nمنى;+96597119441\n".encode("cp1256")
    job = upload_and_start(operator_client, data)
    assert (job.status, job.encoding, job.delimiter, job.rejected) == ("done", "cp1256", ";", 2)
    body = download(operator_client, f"/contacts/imports/{job.pk}/rejected.csv")
    assert body.decode("cp1256").splitlines() == [
        "rejected line;rejected because;name;phone",
        "2;invalid phone number “12”: too short;علي;12",
        "4;duplicate of line 3;منى;'+96597119441",
    ]


def test_a_corrected_rejected_rows_file_imports_as_it_is(operator_client):
    job = upload_and_start(operator_client, b"name,phone,team\nAli,9711944,Blue\n")
    body = download(operator_client, f"/contacts/imports/{job.pk}/rejected.csv")
    fixed = body.replace(b"9711944,", b"97119440,")
    again = upload_and_start(operator_client, fixed, name="fixed.csv")
    assert (again.created, again.rejected) == (1, 0)
    assert Contact.objects.get().attributes == {"team": "Blue"}


def test_the_upload_is_deleted_when_the_import_ends(operator_client, settings):
    job = upload_and_start(operator_client, b"phone\n+96597119440\n")
    assert job.status == "done" and job.file.name == ""
    assert not any((settings.MEDIA_ROOT / "imports").rglob("*.csv"))


def test_a_setting_keeps_uploads_some_days_then_they_are_purged(operator_client, settings):
    settings.IMPORT_UPLOADS_KEEP_DAYS = 3
    job = upload_and_start(operator_client, b"phone\n+96597119440\n")
    path = settings.MEDIA_ROOT / job.file.name
    assert path.exists()
    assert purge_uploads() == 0
    ImportJob.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(days=4))
    assert purge_uploads() == 1
    assert not path.exists() and ImportJob.objects.get().file.name == ""


def test_an_upload_over_the_limit_stops_as_it_streams_in(operator_client, settings, monkeypatch):
    settings.IMPORT_MAX_UPLOAD_MB = 1
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # every byte past the limit check goes to disk
    written = []
    original = TemporaryFileUploadHandler.receive_data_chunk

    def counting(self, raw_data, start):
        written.append(len(raw_data))
        return original(self, raw_data, start)

    monkeypatch.setattr(TemporaryFileUploadHandler, "receive_data_chunk", counting)
    big = b"phone\n" + b"+96597119440\n" * 400_000  # 5 MB
    response = operator_client.post(
        "/contacts/imports/",
        {"region": "KW", "mode": "update", "file": SimpleUploadedFile("big.csv", big)},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [
        "The file is 5 MB or more; the limit is 1 MB. Split it, or import it with "
        "manage.py import_contacts."
    ]
    assert sum(written) <= 2**20  # nothing past the limit was written
    assert not ImportJob.objects.exists()


def test_an_upload_that_says_nothing_of_its_size_stops_at_the_limit(settings):
    import io

    from django.http.multipartparser import MultiPartParser
    from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

    from smsportal.contacts.uploads import LimitedUploadHandler

    settings.IMPORT_MAX_UPLOAD_MB = 1
    body = encode_multipart(BOUNDARY, {"file": SimpleUploadedFile("big.csv", b"x" * (3 * 2**20))})
    stream = io.BytesIO(body)

    class Request:
        pass

    request = Request()
    handler = LimitedUploadHandler(request)
    meta = {"CONTENT_TYPE": MULTIPART_CONTENT, "CONTENT_LENGTH": str(len(body))}
    # A chunked upload has no length: only the bytes received count.
    handler.handle_raw_input = lambda *args, **kwargs: None
    handler.content_length = None
    _, files = MultiPartParser(meta, stream, [handler], "utf-8").parse()
    assert "file" not in files and "limit is 1 MB" in request.upload_refused
    assert stream.tell() < 2 * 2**20  # the rest of the body was never read


# --- exports ------------------------------------------------------------------------------------


def test_export_then_import_keeps_names_that_look_like_formulas(operator_client):
    names = ["'=SUM(A1)", "=HYPERLINK(1)", "''=x", "Ali;=cmd", "tab\t=1", "-5"]
    for i, name in enumerate(names):
        ContactFactory(phone=f"+9659711944{i}", name=name)
    body = download(operator_client, "/contacts/export.csv")
    Contact.objects.all().delete()
    job = upload_and_start(operator_client, body, name="contacts.csv")
    assert (job.created, job.rejected) == (len(names), 0)
    assert sorted(Contact.objects.values_list("name", flat=True)) == sorted(names)


def test_export_neutralises_formulas_and_quotes_cells_holding_a_semicolon_or_a_tab(
    operator_client,
):
    ContactFactory(phone="+96597119440", name="Ali;=HYPERLINK(1)")
    ContactFactory(phone="+96597119441", name="Sara\t=1+1")
    ContactFactory(phone="+96597119442", name="'=SUM(A1)")
    lines = download(operator_client, "/contacts/export.csv").decode("utf-8-sig").splitlines()
    assert lines[1:] == [
        '\'+96597119440,"Ali;=HYPERLINK(1)",,',
        '\'+96597119441,"Sara\t=1+1",,',
        "'+96597119442,''=SUM(A1),,",
    ]


def test_an_export_that_fails_fails_before_its_first_byte(operator_client, monkeypatch):
    from django.db.models.query import QuerySet

    ContactFactory()

    def broken(self, *args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(QuerySet, "iterator", broken)
    operator_client.raise_request_exception = False
    response = operator_client.get("/contacts/export.csv")
    assert response.status_code == 500 and not response.streaming


def test_a_spreadsheet_is_previewed_and_imported_without_an_encoding(operator_client, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["Name", "Phone"])
    book.active.append(["Ali", 96597119440])
    path = tmp_path / "people.xlsx"
    book.save(path)
    response = operator_client.post(
        "/contacts/imports/",
        {"region": "KW", "mode": "update", "file": SimpleUploadedFile("p.xlsx", path.read_bytes())},
    )
    page = operator_client.get(response.url).content.decode()
    assert "Read as <strong>XLSX, sheet" in page and "Read the file as" not in page
    job = upload_and_start(operator_client, path.read_bytes(), name="p.xlsx")
    assert (job.status, job.created) == ("done", 1)
    assert (
        "a spreadsheet (XLSX)"
        in operator_client.get(f"/contacts/imports/{job.pk}/").content.decode()
    )


def test_a_damaged_spreadsheet_is_refused_in_plain_words_at_the_preview(operator_client):
    response = operator_client.post(
        "/contacts/imports/",
        {"region": "KW", "mode": "update", "file": SimpleUploadedFile("x.xlsx", b"PK\x03\x04junk")},
    )
    page = operator_client.get(response.url).content.decode()
    assert "it is damaged, or not really a spreadsheet" in page
    assert 'id="start-import"' not in page


def test_exporting_a_list_that_does_not_exist_is_a_404_not_an_empty_file(operator_client):
    assert operator_client.get("/contacts/export.csv", {"list": 999}).status_code == 404


def test_an_import_stopped_by_an_error_counts_what_it_wrote(operator_client, monkeypatch):
    """Each chunk is written in a transaction of its own: an error keeps the chunks written
    before it, the failed import's counts say what was imported, and importing the file again
    writes the rest."""
    from smsportal.contacts import importer

    monkeypatch.setattr(importer, "CHUNK", 2)
    real_insert, calls = importer._insert, []

    def insert(rows, *args):
        calls.append(len(rows))
        if len(calls) == 4:
            raise RuntimeError("disk full")
        real_insert(rows, *args)

    monkeypatch.setattr(importer, "_insert", insert)
    data = "phone\n" + "".join(f"+9659711{9440 + i}\n" for i in range(9))

    job = upload_and_start(operator_client, data.encode())

    assert job.status == ImportJob.Status.FAILED
    assert "Importing the file again is safe" in job.error
    assert (job.rows, job.created, Contact.objects.count()) == (6, 6, 6)

    monkeypatch.setattr(importer, "_insert", real_insert)
    job = upload_and_start(operator_client, data.encode())
    assert (job.status, job.created, job.unchanged) == (ImportJob.Status.DONE, 3, 6)
    assert Contact.objects.count() == 9
