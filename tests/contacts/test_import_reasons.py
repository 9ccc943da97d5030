"""An import's reasons are stored in English and shown in the reader's language: on the import
page and in the rejected-rows CSV, for rows imported before and after this change alike."""

from __future__ import annotations

import io
import re

import pytest
from django.urls import reverse
from django.utils import translation

from smsportal.contacts.importer import NAME_MAX, Options, import_contacts
from smsportal.contacts.models import ImportJob, ImportRejection
from smsportal.contacts.reading import open_table
from smsportal.contacts.reasons import translated
from smsportal.core.models import Preference
from tests.factories import ContactListFactory

pytestmark = pytest.mark.django_db

LATIN_WORD = re.compile(r"[A-Za-z]{2,}")

# One row of every kind the importer reports; the values (what was typed) stay as they were.
BAD_ROWS = (
    "phone,name,email,attributes\n"
    "+96597119440,Ali,,\n"
    "+96597119440,Ali again,,\n"  # duplicate of line 2
    "+96597119441,Sara,,,surplus\n"  # one cell too many
    ",Nobody,,\n"  # no phone number
    "12,Short,,\n"  # too short
    "+441,Brit,,\n"  # not valid for GB / too short
    "+99912345678,Nowhere,,\n"  # unknown country code
    "+96597119443,Omar,not-an-email,\n"  # kept: the e-mail left out
    '+96597119444,Huda,,"[1, 2]"\n'  # kept: attributes not a JSON object
    f"+96597119445,{'N' * (NAME_MAX + 5)},not-an-email,\n"  # kept: two changes
)


def import_reasons(data: str) -> list[str]:
    reported = []
    table = open_table(io.BytesIO(data.encode()), len(data.encode()))
    import_contacts(table, Options(region="KW"), on_rejected=reported.extend)
    return [r.reason for r in reported]


def test_every_reason_the_importer_writes_is_stored_in_english_and_shown_in_arabic():
    with translation.override("ar"):  # an import started by someone reading Arabic
        reasons = import_reasons(BAD_ROWS)
    # A NUL character and bad encoding are reported only deep in a file (tests/contacts/
    # test_importer.py): their sentences are checked on their own.
    reasons += [
        "a NUL character (binary data)",
        "characters that are not valid in the file's encoding",
    ]
    assert len(reasons) == 11, reasons
    assert "invalid phone number “12”: too short" in reasons
    assert all(LATIN_WORD.search(reason) for reason in reasons)  # stored in English
    with translation.override("ar"):
        shown = {reason: translated(reason) for reason in reasons}
    # What was typed, a country code, names of formats and characters.
    typed = re.compile(r"[“«][^”»]*[”»]|\bGB\b|\bJSON\b|\bNUL\b")
    untranslated = {r: s for r, s in shown.items() if LATIN_WORD.search(typed.sub("", s))}
    assert untranslated == {}
    assert shown["duplicate of line 2"] == "مكرر للسطر 2"
    with translation.override("en"):
        assert [translated(reason) for reason in reasons] == reasons


def test_a_reason_it_does_not_recognise_is_shown_as_stored():
    with translation.override("ar"):
        assert translated("a reason from an older version") == "a reason from an older version"
        # Half recognised (one piece of two): shown whole as stored, never half translated.
        assert translated("no phone number; something else") == "no phone number; something else"


def test_the_import_page_and_rejected_csv_show_reasons_in_the_users_language(
    operator, operator_client
):
    Preference.objects.create(user=operator, language="ar")
    job = ImportJob.objects.create(
        original_name="contacts.csv",
        contact_list=ContactListFactory(),
        region="KW",
        status=ImportJob.Status.DONE,
        header=["phone", "name"],
        rows=1,
        rejected=1,
        created_by=operator,
    )
    ImportRejection.objects.create(
        job=job, line=2, raw="12,Nobody", reason="invalid phone number “12”: too short"
    )
    page = operator_client.get(reverse("contacts:import_detail", args=[job.pk])).content.decode()
    assert "رقم هاتف غير صالح «12»: قصير جدًا" in page
    assert "too short" not in page
    csv = b"".join(
        operator_client.get(reverse("contacts:import_rejections", args=[job.pk])).streaming_content
    ).decode("utf-8-sig")
    assert "رقم هاتف غير صالح «12»: قصير جدًا" in csv


def test_an_imports_preview_and_its_page_in_arabic_hold_no_english(
    operator, operator_client, django_capture_on_commit_callbacks
):
    """From the upload to the finished import's page, read in Arabic: how the file reads,
    what each column becomes, and why rows were rejected."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.support.untranslated import english_words

    Preference.objects.create(user=operator, language="ar")
    upload = SimpleUploadedFile(
        "people.csv", b"phone;name;city\n+96597119440;Ali;Kuwait\n12;Short;\n+96597119440;Again;\n"
    )
    response = operator_client.post(
        "/contacts/imports/",
        {"file": upload, "region": "kw", "mode": "update", "new_list": "Imported"},
    )
    preview = operator_client.get(response.url).content.decode()
    assert "ملف CSV، بترميز UTF-8، مفصولًا بفواصل منقوطة" in preview
    typed = {"people.csv", "Imported", "city", "Ali", "Kuwait", "Short", "Again"}
    assert english_words(preview, typed) == []
    with django_capture_on_commit_callbacks(execute=True):
        operator_client.post(response.url + "start/", {"encoding": "utf-8"})
    page = operator_client.get(response.url).content.decode()
    assert "مكرر للسطر 2" in page and "رقم هاتف غير صالح «12»: قصير جدًا" in page
    assert english_words(page, typed) == []
