"""The contacts pages: search and pages that stay fast, lists, bulk actions, opt-outs, the
browser import with its progress and rejected rows, exports, and the command line import."""

from __future__ import annotations

import factory
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from smsportal.contacts.models import Contact, ContactList, ImportJob, OptOut
from smsportal.departments.models import Department
from tests.factories import ContactFactory, ContactListFactory, OptOutFactory

pytestmark = pytest.mark.django_db


def test_search_by_name_or_number_start(operator_client):
    ContactFactory(name="Ali Haddad", phone="+96597119440")
    ContactFactory(name="Sara", phone="+96566119441")
    page = operator_client.get("/contacts/", {"q": "ali"}).content.decode()
    assert "Ali Haddad" in page and "Sara" not in page
    for typed in ("+965 6611", "00965661", "965-661"):
        page = operator_client.get("/contacts/", {"q": typed}).content.decode()
        assert "Sara" in page and "Ali Haddad" not in page, typed


def test_filter_by_list_and_page_by_id_without_counting(operator_client):
    staff = ContactListFactory(name="Staff")
    contacts = ContactFactory.create_batch(120)
    staff.add([c.pk for c in contacts[:70]])
    with CaptureQueriesContext(connection) as queries:
        first = operator_client.get("/contacts/", {"list": staff.pk})
    counting = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert not [sql for sql in counting if "contacts_" in sql]
    shown = first.context["page"].items
    assert [c.pk for c in shown] == [c.pk for c in contacts[:70]][::-1][:50]
    older = operator_client.get("/contacts/", {"list": staff.pk, "before": shown[-1].pk})
    assert [c.pk for c in older.context["page"].items] == [c.pk for c in contacts[:20]][::-1]
    assert older.context["page"].older is None
    back = operator_client.get(
        "/contacts/", {"list": staff.pk, "after": older.context["page"].newer}
    )
    assert [c.pk for c in back.context["page"].items] == [c.pk for c in shown]


def test_the_search_box_answers_with_the_table_alone_for_htmx(operator_client):
    ContactFactory(name="Ali")
    response = operator_client.get(
        "/contacts/", {"q": "Al"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="contact-table"
    )
    assert response.content.decode().lstrip().startswith('<div id="contact-table">')


def test_add_edit_and_delete_a_contact(operator_client):
    response = operator_client.post(
        "/contacts/add/", {"phone": "9711 9440", "name": "Ali", "email": ""}
    )
    assert response.status_code == 302
    contact = Contact.objects.get(phone="+96597119440")
    response = operator_client.post(
        f"/contacts/{contact.pk}/", {"phone": "+96597119440", "name": "Ali H", "email": ""}
    )
    contact.refresh_from_db()
    assert (contact.name, contact.name_key) == ("Ali H", "ali h")
    operator_client.post(f"/contacts/{contact.pk}/delete/")
    assert not Contact.objects.exists()


def test_a_bad_number_says_what_is_wrong(operator_client):
    response = operator_client.post("/contacts/add/", {"phone": "12", "name": "x"})
    assert "“12” is not a phone number: too short." in response.content.decode()


def test_bulk_add_to_and_remove_from_a_list(operator_client):
    staff = ContactListFactory()
    a, b, c = ContactFactory.create_batch(3)
    operator_client.post(
        "/contacts/bulk/", {"action": "add", "contacts": [a.pk, b.pk], "contact_list": staff.pk}
    )
    assert set(staff.members.all()) == {a, b}
    operator_client.post(
        "/contacts/bulk/", {"action": "remove", "contacts": [a.pk], "contact_list": staff.pk}
    )
    assert set(staff.members.all()) == {b}
    response = operator_client.post("/contacts/bulk/", {"action": "add", "contacts": [c.pk]})
    assert "Nothing changed: Choose the list." in [str(m) for m in response.wsgi_request._messages]


def test_lists_show_member_counts_in_one_query(operator_client):
    # Named, so the page's order (by name) does not hang on the factory's sequence: "List 9"
    # comes after "List 10" once earlier tests have counted past 9.
    for name, size in (("Alpha", 3), ("Beta", 0), ("Gamma", 5)):
        ContactListFactory(name=name).add([c.pk for c in ContactFactory.create_batch(size)])
    with CaptureQueriesContext(connection) as queries:
        response = operator_client.get("/contacts/lists/")
    assert [cl.size for cl in response.context["lists"]] == [3, 0, 5]
    contacts_queries = [q["sql"] for q in queries.captured_queries if "contacts_" in q["sql"]]
    assert len(contacts_queries) == 1, contacts_queries


def test_opt_outs_are_added_once_and_removed(operator_client):
    operator_client.post("/contacts/opt-outs/add/", {"phone": "+965 9711 9440", "note": "asked"})
    operator_client.post("/contacts/opt-outs/add/", {"phone": "96597119440", "note": "again"})
    optout = OptOut.objects.get()
    assert (optout.phone, optout.reason, optout.note) == ("+96597119440", "manual", "asked")
    operator_client.post(f"/contacts/opt-outs/{optout.pk}/delete/")
    assert not OptOut.objects.exists()


def test_export_streams_the_search(operator_client):
    ContactFactory(name="Ali", phone="+96597119440")
    ContactFactory(name="Sara", phone="+96597119441")
    response = operator_client.get("/contacts/export.csv", {"q": "Sa"})
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert body.splitlines() == ["phone,name,email,attributes", "'+96597119441,Sara,,"]


def test_the_browser_import_runs_in_the_background_and_reports_rejected_rows(
    operator_client, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile(
        "people.csv", b"phone,name\n+96597119440,Ali\n12,Short\n+96597119440,Again\n"
    )
    response = operator_client.post(
        "/contacts/imports/",
        {"file": upload, "region": "kw", "mode": "update", "new_list": "Imported"},
    )
    job = ImportJob.objects.get()
    assert response.url == f"/contacts/imports/{job.pk}/"
    assert job.status == "preview" and not ContactList.objects.exists()
    preview = operator_client.get(response.url).content.decode()
    assert "Read as <strong>CSV, UTF-8, comma-separated</strong>" in preview
    with django_capture_on_commit_callbacks(execute=True):
        operator_client.post(f"/contacts/imports/{job.pk}/start/", {"encoding": "utf-8"})
    job.refresh_from_db()
    assert (job.status, job.rows, job.created, job.rejected) == ("done", 3, 1, 2)
    assert job.contact_list.name == "Imported" and job.contact_list.members.count() == 1
    page = operator_client.get(response.url).content.decode()
    assert "too short" in page and "duplicate of line 2" in page
    rejected = operator_client.get(f"/contacts/imports/{job.pk}/rejected.csv")
    lines = b"".join(rejected.streaming_content).decode("utf-8").splitlines()
    assert lines == [
        "rejected line,rejected because,phone,name",
        "3,invalid phone number “12”: too short,12,Short",
        "4,duplicate of line 2,'+96597119440,Again",
    ]


def test_an_unreadable_upload_fails_with_the_reason(
    operator_client, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile("x.csv", b"name\nAli\n")
    response = operator_client.post(
        "/contacts/imports/", {"file": upload, "region": "KW", "mode": "update"}
    )
    page = operator_client.get(response.url).content.decode()
    assert "No phone column" in page and 'id="start-import"' not in page
    job = ImportJob.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        operator_client.post(f"/contacts/imports/{job.pk}/start/", {"encoding": "utf-8"})
    job.refresh_from_db()
    assert job.status == "failed" and "No phone column" in job.error


def test_the_import_form_refuses_an_empty_file_and_an_unknown_region(operator_client):
    response = operator_client.post(
        "/contacts/imports/",
        {"file": SimpleUploadedFile("x.csv", b""), "region": "XX", "mode": "update"},
    )
    form = response.context["form"]
    assert "The submitted file is empty." in form.errors["file"][0]
    assert "not a country code" in form.errors["region"][0]
    assert not ImportJob.objects.exists()


def test_the_command_imports_reports_and_writes_rejected_rows(tmp_path, capsys):
    path = tmp_path / "people.csv"
    path.write_text("phone;name\n+96597119440;Ali\nabc;Bad\n")
    sales = Department.objects.create(name="Sales")
    call_command(
        "import_contacts", str(path), "--department", "sales", "--list", "Staff", "--quiet-progress"
    )
    out = capsys.readouterr().out
    assert "created 1, updated 0, unchanged 0, rejected 1" in out
    assert "line 3: invalid phone number “abc”: not a number" in out
    assert (tmp_path / "people.csv.rejected.csv").read_text().splitlines() == [
        "rejected line;rejected because;phone;name",
        "3;invalid phone number “abc”: not a number;abc;Bad",
    ]
    staff = ContactList.objects.get(name="Staff")
    assert staff.department == sales
    assert list(staff.members.values_list("phone", "department")) == [("+96597119440", sales.pk)]
    call_command(
        "import_contacts", str(path), "--department", str(sales.pk), "--dry-run", "--quiet-progress"
    )
    assert "Would import 2 rows" in capsys.readouterr().out


def test_the_command_refuses_a_missing_or_unreadable_file(tmp_path):
    Department.objects.create(name="Sales")
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_contacts", str(tmp_path / "nope.csv"), "--department", "Sales")
    (tmp_path / "bin.csv").write_bytes(bytes(range(256)))
    with pytest.raises(CommandError, match="binary"):
        call_command(
            "import_contacts",
            str(tmp_path / "bin.csv"),
            "--department",
            "Sales",
            "--quiet-progress",
        )


def test_the_command_needs_a_department_it_knows(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("phone\n+96597119440\n")
    Department.objects.create(name="Sales")
    with pytest.raises(CommandError, match="required: --department"):
        call_command("import_contacts", str(path), "--quiet-progress")
    with pytest.raises(CommandError, match=r"No department “Marketing”\. Departments: Sales\."):
        call_command("import_contacts", str(path), "--department", "Marketing")
    assert not Contact.objects.exists()


def test_the_same_number_is_a_contact_of_each_department_apart(tmp_path, capsys):
    path = tmp_path / "people.csv"
    path.write_text("phone,name\n+96597119440,Ali\n")
    sales = Department.objects.create(name="Sales")
    Department.objects.create(name="Support")
    Contact.objects.create(phone="+96597119440", name="Sales' Ali", department=sales)

    call_command("import_contacts", str(path), "--department", "Support", "--quiet-progress")

    assert "created 1, updated 0" in capsys.readouterr().out
    assert dict(Contact.objects.values_list("department__name", "name")) == {
        "Sales": "Sales' Ali",
        "Support": "Ali",
    }


def test_sending_to_a_list_skips_opted_out_numbers_and_pasted_duplicates(operator_client, account):
    staff = ContactListFactory()
    a, b = ContactFactory(phone="+96597119440"), ContactFactory(phone="+96597119441")
    staff.add([a.pk, b.pk])
    OptOutFactory(phone="+96597119441")
    OptOutFactory(phone="+96597119999")
    response = operator_client.post(
        "/messages/compose/",
        {
            "account": account.pk,
            "lists": [staff.pk],
            "recipients": "+96597119440\n+96597119999\n+96597119442",
            "text": "Hello",
            "action": "preview",
        },
    )
    summary = response.context["summary"]
    assert summary.phones == ["+96597119440", "+96597119442"]
    assert sorted(summary.opted_out) == ["+96597119441", "+96597119999"]
    assert summary.duplicates == 1


def test_the_inbox_names_a_sender_who_is_a_contact(operator_client, account):
    from smsportal.messaging.inbound import receive
    from smsportal.messaging.models import Conversation
    from smsportal.providers.backends.base import InboundSMS

    contact = ContactFactory(phone="+96597119440", name="Ali")
    receive(account, InboundSMS(sender="+96597119440", recipient="", text="Hi", raw={}))
    receive(account, InboundSMS(sender="+96597119441", recipient="", text="Yo", raw={}))
    page = operator_client.get("/messages/inbox/").content.decode()
    assert (
        '<bdi>Ali</bdi> <bdi class="fw-normal text-body-secondary" dir="ltr">+96597119440</bdi>'
    ) in page
    convo = Conversation.objects.get(phone="+96597119440")
    thread_page = operator_client.get(convo.get_absolute_url()).content.decode()
    assert f'href="/contacts/{contact.pk}/"' in thread_page


def test_the_live_preview_counts_big_lists_and_agrees_with_the_send(operator_client, account):
    staff = ContactListFactory()
    members = [ContactFactory(phone=f"+9659711{i:04d}") for i in range(30)]
    staff.add([c.pk for c in members])
    OptOutFactory(phone="+96597110003")  # a member
    OptOutFactory(phone="+96597119999")  # pasted only
    data = {
        "account": account.pk,
        "lists": [staff.pk],
        "recipients": "+96597110001\n+96597119999\n+96597119442\n12",
        "text": "Hello",
        "action": "preview",
    }
    with CaptureQueriesContext(connection) as queries:
        live = operator_client.post("/messages/compose/", data, HTTP_HX_REQUEST="true")
    exact = operator_client.post("/messages/compose/", data)
    live_summary, exact_summary = live.context["summary"], exact.context["summary"]
    assert (
        (live_summary.count, live_summary.opted_out_count, live_summary.duplicates)
        == (
            exact_summary.count,
            exact_summary.opted_out_count,
            exact_summary.duplicates,
        )
        == (30, 2, 1)
    )
    assert len(live_summary.invalid) == len(exact_summary.invalid) == 1
    # The members themselves were never read: only counted.
    assert not any(
        "contacts_contact" in q["sql"]
        and "COUNT(" not in q["sql"].upper()
        and '"phone" IN' not in q["sql"]
        for q in queries.captured_queries
    )


def test_a_contacts_number_beside_an_arabic_name_reads_left_to_right(operator_client, operator):
    from smsportal.core.models import Preference

    Preference.objects.update_or_create(user=operator, defaults={"language": "ar"})
    contact = ContactFactory(name="أحمد", phone="+96597119440")

    page = operator_client.get(f"/contacts/{contact.pk}/").content.decode()

    shown = '<bdi>أحمد</bdi> (<bdi dir="ltr">+96597119440</bdi>)'
    assert page.count(shown) == 2  # the breadcrumb and the heading


def test_a_contacts_name_on_the_list_leads_to_the_contact(operator_client):
    contact = ContactFactory(name="Ali Haddad")
    page = operator_client.get("/contacts/").content.decode()
    assert f'<a href="/contacts/{contact.pk}/" dir="auto">Ali Haddad</a>' in page


@pytest.mark.parametrize("query", ["", "Contact", "+9659"])
def test_the_list_marks_opted_out_contacts_in_the_pages_own_query(
    operator_client, django_assert_max_num_queries, query
):
    """The badge comes from an EXISTS in the page's query: forty rows, half opted out, cost what
    one row does (browsing, a name search and a number search alike)."""
    ContactFactory()
    with CaptureQueriesContext(connection) as one_row:
        operator_client.get("/contacts/", {"q": query})
    contacts = ContactFactory.create_batch(40)
    OptOutFactory.create_batch(20, phone=factory.Iterator(c.phone for c in contacts[::2]))

    with django_assert_max_num_queries(len(one_row)):
        response = operator_client.get("/contacts/", {"q": query})

    expected = {c.pk: i % 2 == 0 for i, c in enumerate(contacts)}
    shown = {c.pk: c.opted_out for c in response.context["page"].items if c.pk in expected}
    assert shown == expected
    page = response.content.decode()
    assert page.count('<span class="badge text-bg-warning fw-normal opted-out">opted out') == 20


def test_an_opted_out_contacts_page_says_why_and_offers_no_message(operator_client):
    contact = ContactFactory(name="Import Two")
    OptOut.objects.create(phone=contact.phone, reason="keyword", note="keyword STOP")

    page = operator_client.get(f"/contacts/{contact.pk}/").content.decode()

    assert 'id="opted-out"' in page
    assert "replied with an opt-out keyword" in page and "keyword STOP" in page
    assert "no message can be sent to it" in page
    assert "Send a message" not in page
    other = ContactFactory()
    assert "Send a message" in operator_client.get(f"/contacts/{other.pk}/").content.decode()


def test_a_bulk_action_with_no_contact_ticked_says_so_and_keeps_the_choice(operator_client):
    ContactFactory()
    staff = ContactListFactory(name="Staff")
    response = operator_client.post(
        "/contacts/bulk/",
        {"action": "remove", "contact_list": staff.pk, "next": "/contacts/?q=Contact"},
        follow=True,
    )

    said = [str(m) for m in response.context["messages"]]
    assert said == ["Nothing changed: Tick at least one contact first."]
    page = response.content.decode()
    assert '<option value="remove" selected>' in page
    assert f'<option value="{staff.pk}" selected>Staff</option>' in page
    # Chosen once: the page after shows the form as new.
    again = operator_client.get("/contacts/").content.decode()
    assert '<option value="remove" selected>' not in again
