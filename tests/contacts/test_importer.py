"""Importing contacts: every shape of file, every kind of bad row, and the promise that the same
file twice changes nothing."""

from __future__ import annotations

import codecs
import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smsportal.contacts.importer import Options, import_contacts
from smsportal.contacts.models import Contact, ContactList
from smsportal.contacts.reading import MAX_LINE, UnreadableFile, open_table

pytestmark = pytest.mark.django_db


def run(data: bytes, **options):
    rejected = []
    table = open_table(io.BytesIO(data), len(data))
    summary = import_contacts(table, Options(region="KW", **options), on_rejected=rejected.extend)
    return summary, [(r.line, r.reason) for r in rejected]


GOOD = "name,mobile,company\nAli,+965 9711 9440,Acme\nSara,0096597119441,\nOmar,97119442,Beta\n"


def test_a_file_is_imported_with_columns_mapped_by_name():
    summary, rejected = run(GOOD.encode())
    assert (summary.rows, summary.created, summary.rejected) == (3, 3, 0)
    assert rejected == []
    ali = Contact.objects.get(phone="+96597119440")
    assert (ali.name, ali.attributes) == ("Ali", {"company": "Acme"})
    assert Contact.objects.get(phone="+96597119442").name == "Omar"  # a local number, read in KW
    assert summary.columns == {
        "mobile": "phone",
        "name": "name",
        "company": "attribute",
    }


def test_importing_the_same_file_again_changes_nothing():
    run(GOOD.encode())
    before = list(Contact.objects.values_list("phone", "name", "attributes", "updated_at"))
    summary, rejected = run(GOOD.encode())
    assert (summary.created, summary.updated, summary.unchanged, rejected) == (0, 0, 3, [])
    assert list(Contact.objects.values_list("phone", "name", "attributes", "updated_at")) == before


def test_update_changes_what_the_file_says_and_keeps_what_it_leaves_empty():
    run(GOOD.encode())
    summary, _ = run(b"phone,name,email,team\n+96597119440,,ali@example.com,Blue\n")
    assert (summary.updated, summary.unchanged) == (1, 0)
    ali = Contact.objects.get(phone="+96597119440")
    assert (ali.name, ali.email, ali.attributes) == (
        "Ali",
        "ali@example.com",
        {"company": "Acme", "team": "Blue"},
    )


def test_skip_existing_leaves_known_contacts_alone():
    run(GOOD.encode())
    summary, _ = run(b"phone,name\n+96597119440,Renamed\n", update_existing=False)
    assert (summary.updated, summary.unchanged) == (0, 1)
    assert Contact.objects.get(phone="+96597119440").name == "Ali"


def test_a_dry_run_counts_and_writes_nothing():
    summary, _ = run(GOOD.encode(), dry_run=True)
    assert summary.created == 3
    assert not Contact.objects.exists()


def test_every_bad_row_is_rejected_with_its_line_and_reason_and_the_rest_imported():
    data = (
        "phone,name,email\n"
        "+96597119440,Good,\n"
        "12,Too short,\n"
        "hello,Not a number,\n"
        ",No phone,\n"
        "96597119440,Duplicate,\n"
        "+96597119443,Bad email,not-an-email\n"
        "+96597119444,Too,many,cells\n"
        "\n"
        "+96597119445,Also good,\n"
    )
    summary, rejected = run(data.encode())
    assert summary.created == 2
    assert rejected == [
        (3, "invalid phone number “12”: too short"),
        (4, "invalid phone number “hello”: not a number"),
        (5, "no phone number"),
        (6, "duplicate of line 2"),
        (7, "invalid email address “not-an-email”"),
        (8, "4 cells, but the header has 3"),
    ]
    assert summary.rejected == len(rejected)
    assert summary.rows == summary.created + summary.rejected


@pytest.mark.parametrize(
    ("encoded", "name"),
    [
        (("name;phone\nعلي;+96597119440\n").encode(), "علي"),
        (codecs.BOM_UTF8 + "name,phone\nعلي,+96597119440\n".encode(), "علي"),
        ("name\tphone\nعلي\t+96597119440\n".encode("utf-16"), "علي"),
        ("name,phone\nعلي محمد,+96597119440\n".encode("cp1256"), "علي محمد"),
        ("name|phone\nJosé Müller|+96597119440\n".encode("latin-1"), "José Müller"),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16-tab", "windows-1256", "latin-1-bar"],
)
def test_encodings_and_delimiters_are_sniffed(encoded, name):
    summary, rejected = run(encoded)
    assert (summary.created, rejected) == (1, [])
    assert Contact.objects.get().name == name


def test_an_xlsx_file_is_read_numbers_and_all(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Name", "Phone", "City"])
    sheet.append(["Ali", 96597119440, "Kuwait"])
    sheet.append(["Bad", "123", None])
    path = tmp_path / "contacts.xlsx"
    book.save(path)
    summary, rejected = run(path.read_bytes())
    assert (summary.created, rejected) == (1, [(3, "invalid phone number “123”: too short")])
    assert Contact.objects.get().attributes == {"City": "Kuwait"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\xef\xbb\xbf\r\n \n", "empty"),
        (bytes(range(256)) * 10, "binary"),
        (b"name,email\nAli,ali@example.com\n", "No phone column"),
        (b"PK\x03\x04 not really a zip", "XLSX"),
    ],
)
def test_a_file_that_cannot_be_imported_says_why(data, message):
    with pytest.raises(UnreadableFile, match=message):
        run(data)
    assert not Contact.objects.exists()


def test_ten_megabytes_in_one_line_is_one_rejected_row_not_a_crash():
    data = b"phone,name\n+96597119440,A\n" + b"x" * 10_000_000 + b"\n+96597119441,B\n"
    summary, rejected = run(data)
    assert summary.created == 2
    assert rejected == [(3, "line of 10,000,001 characters: too long")]
    assert MAX_LINE < 10_000_000


def test_imported_contacts_join_the_list_once():
    staff = ContactList.objects.create(name="Staff")
    summary, _ = run(GOOD.encode(), contact_list=staff)
    assert summary.added_to_list == 3
    summary, _ = run(GOOD.encode(), contact_list=staff)
    assert summary.added_to_list == 0
    assert staff.members.count() == 3


def test_an_exported_file_imports_back_unchanged(manager_client):
    run(GOOD.encode())
    Contact.objects.filter(phone="+96597119440").update(attributes={"note": "=1+2", "n": "x"})
    before = sorted(Contact.objects.values_list("phone", "name", "email", "attributes"))
    response = manager_client.get("/contacts/export.csv")
    exported = b"".join(response.streaming_content)
    assert b"'+96597119440" in exported  # a cell starting with + is escaped for spreadsheets
    summary, rejected = run(exported)
    assert (summary.created, summary.updated, summary.unchanged, rejected) == (0, 0, 3, [])
    assert sorted(Contact.objects.values_list("phone", "name", "email", "attributes")) == before


def test_a_formula_in_a_name_is_escaped_on_export(manager_client):
    Contact.objects.create(phone="+96597119440", name="=cmd|' /C calc'!A0")
    exported = b"".join(manager_client.get("/contacts/export.csv").streaming_content).decode()
    assert "'=cmd|" in exported


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.one_of(st.binary(max_size=400), st.text(max_size=400).map(str.encode)))
def test_random_bytes_give_a_clear_refusal_or_a_report_never_a_crash(data):
    try:
        summary, rejected = run(b"phone,name\n" + data)
    except UnreadableFile as exc:
        assert str(exc)
    else:
        assert summary.rows == summary.created + summary.updated + summary.unchanged + len(
            rejected
        ) - sum(1 for _, reason in rejected if reason.startswith("line of"))
    try:
        run(data)
    except UnreadableFile as exc:
        assert str(exc)


def test_the_attributes_column_of_our_export_must_be_a_json_object():
    data = 'phone,attributes\n+96597119440,"{""a"": 1}"\n+96597119441,[1]\n'
    _, rejected = run(data.encode())
    assert rejected == [(3, "the attributes column is not a JSON object")]
    assert Contact.objects.get().attributes == json.loads('{"a": 1}')


def test_parsing_in_another_process_gives_the_same_result():
    data = GOOD + "Bad,12,\nDup,96597119440,\n"
    alone = run(data.encode(), dry_run=True)
    beside = run(data.encode(), dry_run=True, parse_processes=1)
    assert (alone[0].created, alone[0].rejected, alone[1]) == (
        beside[0].created,
        beside[0].rejected,
        beside[1],
    )
    assert beside[1] == [(5, "invalid phone number “12”: too short"), (6, "duplicate of line 2")]


def test_a_nul_character_past_the_sniffed_start_rejects_the_row_and_is_not_stored():
    padding = "".join(f"+965971{i:05d},Contact number {i}\n" for i in range(3_000))
    data = f"phone,name\n{padding}".encode() + b"+96566119440,A\x00B\n"
    assert len(data) > 64 * 1024  # beyond the sample that decides "binary file"
    summary, rejected = run(data)
    assert summary.created == 3_000
    assert rejected == [(3_002, "a NUL character (binary data)")]
