"""Importing contacts: every shape of file, every kind of bad row, and the promise that the same
file twice changes nothing."""

from __future__ import annotations

import codecs
import csv
import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smsportal.contacts.importer import Options, import_contacts
from smsportal.contacts.models import Contact, ContactList
from smsportal.contacts.reading import MAX_LINE, UnreadableFile, open_table

pytestmark = pytest.mark.django_db


def run_reporting(data: bytes, encoding: str = "", **options):
    """(summary, every Rejection: rejected rows and rows kept with a warning)."""
    reported = []
    table = open_table(io.BytesIO(data), len(data), encoding=encoding)
    summary = import_contacts(table, Options(region="KW", **options), on_rejected=reported.extend)
    return summary, reported


def run(data: bytes, **options):
    summary, reported = run_reporting(data, **options)
    return summary, [(r.line, r.reason) for r in reported if not r.kept]


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


def test_a_known_contact_with_the_same_attributes_is_compared_by_value_not_by_stored_text():
    Contact.objects.create(phone="+96597119440", name="Ali", attributes={"b": "2", "a": "1"})
    data = "phone,name,a,b\n+96597119440,{}Ali,1,2\n"
    # The same values, stored in another order than the file gives them: unchanged.
    summary, _ = run(data.format("").encode())
    assert (summary.updated, summary.unchanged) == (0, 1)
    # The stored text now the file's own: a new name is still seen, the attributes kept.
    Contact.objects.update(attributes={"a": "1", "b": "2"})
    summary, _ = run(data.format("").encode())
    assert (summary.updated, summary.unchanged) == (0, 1)
    summary, _ = run(data.format("Renamed ").encode())
    assert (summary.updated, summary.unchanged) == (1, 0)
    ali = Contact.objects.get()
    assert (ali.name, ali.attributes) == ("Renamed Ali", {"a": "1", "b": "2"})


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
    assert summary.created == 3
    assert rejected == [
        (3, "invalid phone number “12”: too short"),
        (4, "invalid phone number “hello”: not a number"),
        (5, "no phone number"),
        (6, "duplicate of line 2"),
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
    summary, reported = run_reporting(data.encode())
    assert [(r.line, r.reason, r.kept) for r in reported] == [
        (3, "the attributes column is not a JSON object: left out", True)
    ]
    assert (summary.created, summary.warned, summary.rejected) == (2, 1, 0)
    assert Contact.objects.get(phone="+96597119440").attributes == json.loads('{"a": 1}')
    assert Contact.objects.get(phone="+96597119441").attributes == {}


def test_parsing_in_another_process_gives_the_same_result():
    data = GOOD + "Bad,12,\nDup,96597119440,\n"
    alone = run_reporting(data.encode(), dry_run=True)
    beside = run_reporting(data.encode(), dry_run=True, parse_processes=1)
    assert (alone[0].created, alone[0].rejected) == (beside[0].created, beside[0].rejected)
    # The parsing process sends no cells back for a good row: a duplicate's row as the file
    # wrote it comes from the writing process's own copy of the batch.
    assert [(r.line, r.reason, r.raw) for r in alone[1]] == [
        (r.line, r.reason, r.raw) for r in beside[1]
    ]
    assert [(r.line, r.reason, r.raw) for r in beside[1]] == [
        (5, "invalid phone number “12”: too short", "Bad,12,"),
        (6, "duplicate of line 2", "Dup,96597119440,"),
    ]


def test_a_nul_character_past_the_sniffed_start_rejects_the_row_and_is_not_stored():
    padding = "".join(f"+965971{i:05d},Contact number {i}\n" for i in range(3_000))
    data = f"phone,name\n{padding}".encode() + b"+96566119440,A\x00B\n"
    assert len(data) > 64 * 1024  # beyond the sample that decides "binary file"
    summary, rejected = run(data)
    assert summary.created == 3_000
    assert rejected == [(3_002, "a NUL character (binary data)")]


# --- issue 13: a valid number is never lost for a cosmetic reason ------------------------------


def test_a_name_too_long_for_the_field_is_cut_and_the_contact_kept_with_a_warning():
    long_name = "Mohammed " * 30  # 270 characters
    data = f"phone,name\n+96597119440,{long_name}\n".encode()
    summary, reported = run_reporting(data)
    assert (summary.created, summary.rejected, summary.warned) == (1, 0, 1)
    assert len(Contact.objects.get().name) <= 200
    [warning] = reported
    assert (warning.line, warning.kept) == (2, True)
    assert warning.reason == "name of 269 characters cut to 200"
    assert warning.raw.startswith("+96597119440,Mohammed Mohammed")


def test_an_email_that_is_not_one_is_left_out_and_the_contact_kept():
    summary, reported = run_reporting(b"phone,name,email\n+96597119440,Ali,not-an-email\n")
    assert (summary.created, summary.rejected, summary.warned) == (1, 0, 1)
    assert Contact.objects.get().email == ""
    assert reported[0].reason == "email address “not-an-email” is not valid: left out"


def test_a_duplicates_rejection_shows_its_row_as_the_file_wrote_it():
    data = b"phone;name\n+96597119440;Ali\n96597119440;Ali, again\n"
    _, reported = run_reporting(data)
    assert [(r.line, r.reason, r.raw) for r in reported] == [
        (3, "duplicate of line 2", "96597119440;Ali, again")
    ]


def test_an_international_numbers_reason_names_its_own_country():
    _, rejected = run(b"phone\n+44 2000 00000\n+965 1111 1111\n")
    assert rejected == [
        (2, "invalid phone number “+44 2000 00000”: not a valid number for GB"),
        (3, "invalid phone number “+965 1111 1111”: not a valid number for KW"),
    ]


# --- issue 15: encodings found, not guessed wholesale; multi-line fields ------------------------


def test_utf8_with_one_stray_byte_reads_as_utf8_and_rejects_only_that_row_with_its_line():
    rows = "".join(f"محمد عبد الله {i},+9659711{i:04d}\n" for i in range(40))
    data = ("name,phone\n" + rows).encode()
    broken = data.replace("عبد الله 7,".encode(), "عبد الله 7".encode() + b"\xe9,")
    table = open_table(io.BytesIO(broken), len(broken))
    assert table.encoding == "utf-8"
    summary, rejected = run(broken)
    assert rejected == [(9, "characters that are not valid in the file's encoding")]
    assert summary.created == 39
    assert Contact.objects.get(phone="+96597110008").name == "محمد عبد الله 8"


def test_staff_may_read_a_file_in_another_encoding_than_the_one_found():
    data = "name,phone\nJosé,+96597119440\n".encode("cp1252")
    run_reporting(data, encoding="cp1252")
    assert Contact.objects.get().name == "José"
    with pytest.raises(UnreadableFile, match="not an encoding"):
        open_table(io.BytesIO(data), len(data), encoding="rot13")


def test_multi_line_quoted_fields_import_and_rows_keep_the_line_they_start_on():
    data = (
        b'name,phone,notes\n"Ali\nHassan",+96597119440,"first\r\nsecond"\n'
        b'Bad,12,"one\ntwo"\nSara,+96597119441,\n'
    )
    summary, rejected = run(data)
    assert summary.created == 2
    ali = Contact.objects.get(phone="+96597119440")
    assert (ali.name, ali.attributes) == ("Ali\nHassan", {"notes": "first\r\nsecond"})
    assert rejected == [(5, "invalid phone number “12”: too short")]


def test_a_quote_never_closed_stops_with_the_line_it_started_on():
    rows = "".join(f"+9659711{i:04d},Contact {i}\n" for i in range(9_000)).encode()
    data = b'phone,name\n+96597119440,Ali\n+96597119441,"Sara\n' + rows
    with pytest.raises(UnreadableFile, match=r"Line 3 cannot be read as CSV"):
        run(data)


TRICKY = [
    "back\\slash",
    "\\N",  # COPY's NULL, as a name
    "tab\tinside",
    "\\t written",
    "line\nbreak",
    "carriage\rreturn",
    "quote \" and ' ",
    "علي حسن",
    "emoji 👍 ok",
    "ends with a backslash\\",
]


@pytest.mark.parametrize("with_department", [False, True])
def test_any_text_is_stored_exactly_as_the_file_wrote_it(with_department):
    """New contacts go in as COPY text on PostgreSQL (escaped where they are parsed) and as
    parameters on SQLite: either way every character comes back as written, with the name key
    and measures save() would give them."""
    from smsportal.departments.models import Department

    department = Department.objects.create(name="Sales") if with_department else None
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["phone", "name", "email", "note"])
    for i, text in enumerate(TRICKY):
        writer.writerow([f"+9659711{9400 + i}", f"x {text} y", f"p{i}@example.com", f"n {text} m"])

    summary, rejected = run(
        out.getvalue().encode(), department_id=department.pk if department else None
    )

    assert (summary.created, rejected) == (len(TRICKY), [])
    for i, text in enumerate(TRICKY):
        contact = Contact.objects.get(phone=f"+9659711{9400 + i}")
        name, attributes = f"x {text} y", {"note": f"n {text} m"}
        assert (contact.name, contact.email, contact.attributes) == (
            name,
            f"p{i}@example.com",
            attributes,
        )
        assert contact.department == department
        assert contact.name_key == Contact.key_of(name)
        assert contact.measures == Contact.measures_of(
            contact.phone, name, contact.email, attributes
        )


@settings(max_examples=3_000, deadline=None)
@given(
    st.one_of(
        st.text(max_size=40),
        st.builds(
            lambda user, domain: f"{user}@{domain}",
            st.text(alphabet=st.sampled_from('ab.-_+"\\ @[]:1é'), max_size=12),
            st.one_of(
                st.sampled_from(["example.com", "localhost", "[127.0.0.1]", "[::1]", "x", "a.b-"]),
                st.text(alphabet=st.sampled_from("ab.-1é[]:"), max_size=15),
            ),
        ),
    )
)
def test_the_importers_email_check_is_djangos(email):
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    from smsportal.contacts.importer import email_is_valid

    try:
        validate_email(email)
        django_says = True
    except ValidationError:
        django_says = False
    assert email_is_valid(email) == django_says, email


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=500, deadline=None)
@given(json_values)
def test_the_importers_json_is_json_dumps(value):
    from smsportal.contacts.importer import to_json

    assert to_json(value) == json.dumps(value)
