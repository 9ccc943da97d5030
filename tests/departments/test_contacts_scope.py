"""Contacts, lists, templates and imports are a department's: a person sees and uses only their
departments' (and lists another department shared), makes them for one of their departments,
and a number is a contact once per department. Opt-outs stay the whole organisation's: a number
that said STOP is sent nothing, whichever department sends."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from smsportal.contacts.models import Contact, ContactList, ImportJob
from smsportal.core.roles import OPERATOR
from smsportal.departments.models import Department
from smsportal.keywords.models import KeywordRule
from smsportal.message_templates.models import MessageTemplate
from smsportal.messaging.inbound import receive
from smsportal.messaging.models import Message
from smsportal.providers.backends.base import InboundSMS
from smsportal.recurring.models import RecurringSend
from tests.api.conftest import caller_for
from tests.factories import OptOutFactory, UserFactory
from tests.support.compose import confirm_and_send

pytestmark = pytest.mark.django_db

COMPOSE = reverse("messaging:compose")


def _operator(username: str, *departments: Department):
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get(name=OPERATOR))
    for department in departments:
        department.members.add(user)
    return user


@pytest.fixture
def world():
    alpha, bravo = Department.objects.create(name="Alpha"), Department.objects.create(name="Bravo")
    alice, bob = _operator("alice", alpha), _operator("bob", bravo)
    lists = {}
    for department, name, shared, phone in [
        (alpha, "Alpha customers", False, "+96597100001"),
        (bravo, "Bravo secret", False, "+96597200001"),
        (bravo, "Bravo newsletter", True, "+96597200002"),
    ]:
        contact = Contact.objects.create(phone=phone, name=f"{name} member", department=department)
        lists[name] = ContactList.objects.create(name=name, department=department, shared=shared)
        lists[name].add([contact.pk])
    return {"alpha": alpha, "bravo": bravo, "alice": alice, "bob": bob, "lists": lists}


def test_the_lists_page_shows_own_and_shared_lists_only(client, world):
    client.force_login(world["alice"])
    page = client.get(reverse("contacts:list_list")).content.decode()

    assert "Alpha customers" in page and "Bravo newsletter" in page
    assert "Bravo secret" not in page
    assert f'data-shared="{world["lists"]["Bravo newsletter"].pk}"' in page


def test_a_shared_list_is_read_but_not_changed_by_another_department(client, world):
    client.force_login(world["alice"])
    shared = world["lists"]["Bravo newsletter"]

    page = client.get(shared.get_absolute_url()).content.decode()
    assert "Bravo newsletter" in page
    assert reverse("contacts:list_edit", args=[shared.pk]) not in page
    assert client.get(reverse("contacts:list_edit", args=[shared.pk])).status_code == 404
    assert client.post(reverse("contacts:list_delete", args=[shared.pk])).status_code == 404
    assert ContactList.objects.filter(pk=shared.pk, name="Bravo newsletter").exists()


def test_compose_offers_own_and_shared_lists_and_sends_to_a_shared_lists_members(
    client, world, account, script, django_capture_on_commit_callbacks
):
    client.force_login(world["alice"])
    lists = world["lists"]
    page = client.get(COMPOSE).content.decode()
    assert "Alpha customers" in page and "Bravo newsletter" in page
    assert "Bravo secret" not in page

    form = {"account": account.pk, "text": "Hello", "token": "t1"}
    with django_capture_on_commit_callbacks(execute=True):
        confirm_and_send(client, {**form, "lists": [lists["Bravo newsletter"].pk]})

    message = Message.objects.get()
    assert message.department == world["alpha"]
    assert list(message.deliveries.values_list("phone", flat=True)) == ["+96597200002"]


def test_compose_with_another_departments_list_guessed_sends_nothing_and_counts_nothing(
    client, world, account
):
    client.force_login(world["alice"])
    secret = world["lists"]["Bravo secret"]
    form = {"account": account.pk, "text": "Hello", "token": "t2", "lists": [secret.pk]}

    preview = client.post(
        COMPOSE, {**form, "action": "preview"}, headers={"HX-Request": "true"}
    ).content.decode()
    confirm_and_send(client, form)

    assert "+96597200001" not in preview
    assert not Message.objects.exists()


def test_a_person_in_two_departments_sends_for_one_only_to_its_lists_and_shared_ones(
    client, world, account
):
    """Alice sees both departments' lists; a message for Alpha (its quota, its contacts) may not
    go to Bravo's private list, on Compose nor as a recurring send."""
    world["bravo"].members.add(world["alice"])
    client.force_login(world["alice"])
    secret, shared = world["lists"]["Bravo secret"], world["lists"]["Bravo newsletter"]
    form = {
        "account": account.pk,
        "department": world["alpha"].pk,
        "text": "Hello",
        "token": "t3",
        "lists": [secret.pk, shared.pk],
    }

    page = confirm_and_send(client, form).content.decode()
    assert "Bravo secret is a list of Bravo, not of Alpha" in page
    assert "Bravo newsletter is a list of" not in page  # shared: fine for Alpha
    assert not Message.objects.exists()

    recurring = {
        "name": "Weekly",
        "department": world["alpha"].pk,
        "account": account.pk,
        "lists": [secret.pk],
        "text": "Hello",
        "frequency": "weekly",
        "weekdays": ["0"],
        "time_of_day": "09:00",
        "timezone": "Asia/Kuwait",
        "starts_on": "2030-01-01",
        "on_missed": "late",
    }
    page = client.post(reverse("recurring:create"), recurring).content.decode()
    assert "Bravo secret is a list of Bravo, not of Alpha" in page
    assert not RecurringSend.objects.exists()

    confirm_and_send(client, {**form, "department": world["bravo"].pk, "token": "t4"})
    assert Message.objects.get().department == world["bravo"]


def test_the_api_sends_to_a_shared_list_but_not_to_a_private_one(world, account, script):
    call = caller_for(world["alice"])
    lists = world["lists"]

    refused = call(
        "POST",
        reverse("api-messages"),
        {"account": account.pk, "lists": [lists["Bravo secret"].pk], "text": "Hi"},
    )
    sent = call(
        "POST",
        reverse("api-messages"),
        {"account": account.pk, "lists": [lists["Bravo newsletter"].pk], "text": "Hi"},
    )

    assert refused.status_code == 400 and "lists[0]" in refused.json()["detail"]
    assert sent.status_code in (201, 202), sent.content
    assert Message.objects.get().department == world["alpha"]


def test_an_opt_out_holds_for_every_department(
    client, world, account, script, django_capture_on_commit_callbacks
):
    """Alpha's contact says STOP; Bravo has the same number on its own list: never sent to."""
    Contact.objects.create(phone="+96597100001", department=world["bravo"])
    bravo_list = world["lists"]["Bravo secret"]
    bravo_list.add(Contact.objects.filter(department=world["bravo"]).values_list("pk", flat=True))
    OptOutFactory(phone="+96597100001")
    client.force_login(world["bob"])

    with django_capture_on_commit_callbacks(execute=True):
        confirm_and_send(
            client,
            {
                "account": account.pk,
                "text": "Offer",
                "token": "t3",
                "lists": [bravo_list.pk],
                "recipients": "+96597100001",
            },
        )

    deliveries = dict(Message.objects.get().deliveries.values_list("phone", "status"))
    assert deliveries.get("+96597100001", "skipped") == "skipped"
    assert deliveries["+96597200001"] != "skipped"


def test_a_contact_is_made_for_ones_department_and_a_number_once_per_department(client, world):
    client.force_login(world["alice"])
    url = reverse("contacts:contact_create")

    client.post(url, {"phone": "+96597200001", "name": "Alpha's copy"})  # Bravo has this number
    again = client.post(url, {"phone": "+96597200001", "name": "Twice"})

    assert Contact.objects.get(phone="+96597200001", department=world["alpha"]).name == (
        "Alpha's copy"
    )
    assert "This department has a contact with this number." in again.content.decode()


def test_the_contacts_page_and_export_hold_only_ones_departments_contacts(client, world):
    client.force_login(world["alice"])

    page = client.get(reverse("contacts:contact_list")).content.decode()
    searched = client.get(reverse("contacts:contact_list"), {"q": "9720"}).content.decode()
    export = b"".join(client.get(reverse("contacts:contact_export")).streaming_content).decode()

    assert "+96597100001" in page and "+96597100001" in export
    for body in (page, searched, export):
        assert "+96597200001" not in body and "+96597200002" not in body


def test_a_superuser_sees_every_departments_contacts_and_lists(client, world, admin_user):
    client.force_login(admin_user)

    page = client.get(reverse("contacts:contact_list")).content.decode()
    lists = client.get(reverse("contacts:list_list")).content.decode()

    assert all(phone in page for phone in ("+96597100001", "+96597200001", "+96597200002"))
    theirs = Contact.objects.get(phone="+96597200001")
    assert f'data-department="{theirs.pk}">Bravo<' in page  # whose each row is
    assert all(name in lists for name in world["lists"])


def test_bulk_actions_ignore_another_departments_contacts_and_lists(client, world):
    alice = world["alice"]
    alice.user_permissions.add(Permission.objects.get(codename="delete_contact"))
    client.force_login(alice)
    theirs = Contact.objects.get(phone="+96597200001")
    own_list = world["lists"]["Alpha customers"]

    client.post(
        reverse("contacts:contact_bulk"),
        {"action": "add", "contacts": [theirs.pk], "contact_list": own_list.pk},
    )
    client.post(reverse("contacts:contact_bulk"), {"action": "delete", "contacts": [theirs.pk]})
    client.post(
        reverse("contacts:contact_bulk"),
        {
            "action": "remove",
            "contacts": [theirs.pk],
            "contact_list": world["lists"]["Bravo secret"].pk,
        },
    )

    assert Contact.objects.filter(pk=theirs.pk).exists()
    assert not own_list.members.filter(pk=theirs.pk).exists()
    assert world["lists"]["Bravo secret"].members.filter(pk=theirs.pk).exists()


def test_an_import_writes_its_departments_contacts_and_offers_only_own_lists(
    client, world, django_capture_on_commit_callbacks
):
    client.force_login(world["alice"])
    url = reverse("contacts:import_create")
    page = client.get(url).content.decode()
    assert (
        "Alpha customers" in page and "Bravo secret" not in page and "Bravo newsletter" not in page
    )

    upload = SimpleUploadedFile("people.csv", b"phone,name\n+96597200001,Alpha Sara\n")
    client.post(url, {"file": upload, "region": "KW", "mode": "update", "new_list": "Fresh"})
    job = ImportJob.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("contacts:import_start", args=[job.pk]), {"encoding": ""})

    job.refresh_from_db()
    assert (job.department, job.status, job.created) == (world["alpha"], "done", 1)
    assert Contact.objects.get(phone="+96597200001", department=world["alpha"]).name == "Alpha Sara"
    assert Contact.objects.get(phone="+96597200001", department=world["bravo"]).name == (
        "Bravo secret member"
    )
    assert ContactList.objects.get(name="Fresh").department == world["alpha"]


def test_templates_are_their_departments(client, world):
    MessageTemplate.objects.create(name="Alpha hello", text="Hi", department=world["alpha"])
    theirs = MessageTemplate.objects.create(
        name="Bravo promo", text="Zulu", department=world["bravo"]
    )
    alice = world["alice"]
    alice.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="message_templates")
    )
    client.force_login(alice)

    listing = client.get(reverse("message_templates:list")).content.decode()
    compose = client.get(COMPOSE).content.decode()
    client.post(reverse("message_templates:create"), {"name": "Bravo promo", "text": "Mine"})

    assert "Alpha hello" in listing and "Alpha hello" in compose
    assert "Bravo promo" not in listing and "Bravo promo" not in compose
    assert client.get(reverse("message_templates:edit", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("message_templates:delete", args=[theirs.pk])).status_code == 404
    # The same name in another department is no clash.
    assert MessageTemplate.objects.get(name="Bravo promo", department=world["alpha"]).text == "Mine"


def test_the_api_reads_and_writes_its_keys_departments_contacts_and_lists(world):
    call = caller_for(world["alice"])
    lists = world["lists"]
    theirs = Contact.objects.get(phone="+96597200001")

    made = call("POST", reverse("api-contacts"), {"phone": "+96597200001", "name": "Own"})
    listed = call("GET", reverse("api-lists")).json()["results"]
    shared = call("GET", reverse("api-list", args=[lists["Bravo newsletter"].pk]))
    renamed = call(
        "PATCH", reverse("api-list", args=[lists["Bravo newsletter"].pk]), {"name": "Mine"}
    )
    added = call(
        "POST",
        reverse("api-list-members", args=[lists["Alpha customers"].pk]),
        {"contacts": [theirs.pk]},
    )

    assert made.status_code == 201
    assert Contact.objects.get(pk=made.json()["id"]).department == world["alpha"]
    assert {row["name"] for row in listed} == {"Alpha customers", "Bravo newsletter"}
    assert shared.status_code == 200 and renamed.status_code == 404
    assert added.status_code == 400
    assert call("GET", reverse("api-contact", args=[theirs.pk])).status_code == 404


def test_a_keyword_adds_the_sender_to_the_lists_department(
    world, account, django_capture_on_commit_callbacks
):
    KeywordRule.objects.create(
        account=account, keyword="JOIN", add_to_list=world["lists"]["Bravo secret"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        receive(account, InboundSMS(sender="+96597100001", recipient="", text="JOIN", raw={}))

    joined = world["lists"]["Bravo secret"].members.get(phone="+96597100001")
    assert joined.department == world["bravo"]
    assert Contact.objects.get(phone="+96597100001", department=world["alpha"]).lists.count() == 1


def test_a_user_in_no_department_sees_why_and_can_make_nothing(client, world):
    loner = _operator("loner")
    loner.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="message_templates")
    )
    client.force_login(loner)

    for name in ("contacts:contact_list", "contacts:list_list", "message_templates:list"):
        page = client.get(reverse(name)).content.decode()
        assert 'id="no-department"' in page, name
        assert "Alpha customers member" not in page and "Bravo secret" not in page

    client.post(reverse("contacts:contact_create"), {"phone": "+96597300001"})
    client.post(reverse("contacts:list_create"), {"name": "Orphans"})
    client.post(reverse("message_templates:create"), {"name": "Orphan", "text": "x"})
    form = client.get(reverse("contacts:contact_create")).content.decode()

    assert 'id="no-department"' in form
    assert not Contact.objects.filter(phone="+96597300001").exists()
    assert not ContactList.objects.filter(name="Orphans").exists()
    assert not MessageTemplate.objects.filter(name="Orphan").exists()


def test_the_admin_shows_staff_only_their_departments_contacts_lists_and_templates(client, world):
    alice = world["alice"]
    alice.is_staff = True
    alice.save()
    alice.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_contact", "view_contactlist", "view_messagetemplate"]
        )
    )
    MessageTemplate.objects.create(name="Bravo promo", text="Zulu", department=world["bravo"])
    client.force_login(alice)

    contacts = client.get("/admin/contacts/contact/").content.decode()
    lists = client.get("/admin/contacts/contactlist/").content.decode()
    templates = client.get("/admin/message_templates/messagetemplate/").content.decode()

    assert "+96597100001" in contacts and "+96597200001" not in contacts
    assert "Alpha customers" in lists and "Bravo secret" not in lists
    assert "Bravo promo" not in templates


def test_another_departments_contact_name_is_not_shown_in_the_inbox_nor_filled_in(
    client, world, account, script, django_capture_on_commit_callbacks
):
    """+96597200001 is Bravo's contact "Bravo secret member"; Alpha writes to the number and it
    answers: Alpha's thread and Alpha's {name} know no name for it."""
    client.force_login(world["alice"])
    form = {
        "account": account.pk,
        "recipients": "+96597200001",
        "text": "Dear {name|friend}",
        "token": "t4",
    }
    preview = client.post(COMPOSE, {**form, "action": "preview"}).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        confirm_and_send(client, form)
        receive(account, InboundSMS(sender="+96597200001", recipient="", text="Hi", raw={}))
    inbox = client.get(reverse("messaging:inbox")).content.decode()
    searched = client.get(reverse("messaging:inbox"), {"q": "Bravo"}).content.decode()
    thread = client.get(Message.objects.get().get_absolute_url()).content.decode()

    assert Message.objects.get().deliveries.get().text == "Dear friend"
    for page in (preview, inbox, thread):
        assert "Bravo secret member" not in page
    assert "+96597200001" in inbox and "+96597200001" not in searched


def test_the_demo_gives_its_contacts_and_lists_to_the_demo_departments():
    from smsportal.core.management.commands.demo_data import create_demo_data

    create_demo_data("admin")

    assert Contact.objects.exists()
    assert not Contact.objects.filter(department__isnull=True).exists()
    staff, support = (
        ContactList.objects.get(name="Staff"),
        ContactList.objects.get(name="Support team"),
    )
    assert (staff.department.name, staff.shared) == ("Sales", True)
    assert (support.department.name, support.shared) == ("Support", False)
    assert not support.members.exclude(department=support.department).exists()


def test_the_upgrade_gives_existing_contacts_lists_imports_and_templates_to_general():
    """The data migrations, run on rows made as before departments."""
    import importlib

    from django.apps import apps

    contact = Contact.objects.create(phone="+96597119440")
    old_list = ContactList.objects.create(name="Old list")
    job = ImportJob.objects.create(original_name="old.csv", region="KW")
    template = MessageTemplate.objects.create(name="Old template", text="Hi")
    Department.objects.get_or_create(name="General")

    for module in (
        "smsportal.contacts.migrations.0011_rows_to_general",
        "smsportal.message_templates.migrations.0003_rows_to_general",
    ):
        importlib.import_module(module).to_general(apps, None)

    for row in (contact, old_list, job, template):
        row.refresh_from_db()
        assert row.department.name == "General", row


def test_the_contacts_table_keeps_its_triggers_through_the_department_migration():
    """SQLite rebuilt contacts_contact to drop the phone's unique flag (0010): the search
    index's and the list counts' triggers are still there, and still work."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL alters the column in place")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
            ["contacts_contact"],
        )
        names = {row[0] for row in cursor.fetchall()}
    assert {"contacts_contact_fts_insert", "contacts_contact_measures_update"} <= names
    from smsportal.contacts.search import ContactSearch

    Contact.objects.create(phone="+96597555001", name="Trigger Test", department=world_free())
    assert [c.phone for c in ContactSearch("trigger").window(before=None, after=None, limit=5)] == [
        "+96597555001"
    ]


def world_free():
    return Department.objects.get_or_create(name="Solo")[0]
