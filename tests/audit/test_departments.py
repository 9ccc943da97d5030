"""The audit trail keeps to the department rule (docs/departments.md): a Manager of Alpha reads the
entries about Alpha's rows, rows of no department and the whole organisation's (accounts,
users, departments), on the page, through its filters and in the export; never an entry about
Bravo's rows, not even once the row is deleted. A superuser reads every entry."""

from __future__ import annotations

import csv
import io

import pytest
from auditlog.context import set_actor
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from smsportal.audit.scope import owner_path
from smsportal.contacts.models import Contact, ContactList, Membership, OptOut
from smsportal.core.roles import MANAGER
from smsportal.departments.models import Department
from smsportal.messaging.models import Delivery
from smsportal.providers.models import ProviderAccount
from smsportal.quotas.models import Quota
from smsportal.senders.models import SenderID
from tests.departments.test_isolation import B_MARKERS, _leaks, two_departments
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("audit:index")
EXPORT_URL = reverse("audit:export")


def _manager_of(*departments, username="mgr_alpha"):
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get(name=MANAGER))
    for department in departments:
        department.members.add(user)
    return user


@pytest.fixture
def world(account, script, django_capture_on_commit_callbacks):
    """Alpha's and Bravo's rows, Bravo's with marker words (departments/test_isolation.py)."""
    return two_departments(account, django_capture_on_commit_callbacks)


@pytest.fixture
def alpha_manager(world):
    return _manager_of(Department.objects.get(name="Alpha"))


def objects_on(client, **filters) -> list[str]:
    page = client.get(URL, filters)
    assert page.status_code == 200
    return [row["entry"].object_repr for row in page.context["entries"]]


def exported(client, **filters) -> str:
    response = client.get(EXPORT_URL, filters)
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode("utf-8-sig")


def test_a_manager_reads_their_departments_and_the_organisations_entries_not_anothers(
    client, world, alpha_manager
):
    client.force_login(alpha_manager)

    page = client.get(URL)
    shown = [row["entry"].object_repr for row in page.context["entries"]]

    assert _leaks(page.content) == []
    assert not any(marker in " ".join(shown) for marker in B_MARKERS)
    a = world["a"]
    for own in (str(a["contact"]), str(a["list"]), str(a["message"])):
        assert own in shown, own
    # The whole organisation's: the provider account, the departments, the users.
    assert str(world["account"]) in shown
    assert {"Alpha", "Bravo", "alice", "bob"} <= set(shown)


def test_the_export_holds_what_the_page_shows(client, world, alpha_manager):
    client.force_login(alpha_manager)

    text = exported(client)

    rows = list(csv.reader(io.StringIO(text)))[1:]
    assert _leaks(text) == []
    assert "Alpha contact (+96597000444)" in [row[6] for row in rows]
    assert str(world["account"]) in [row[6] for row in rows]


def test_the_filters_narrow_what_the_reader_may_see(client, world, alpha_manager):
    client.force_login(alpha_manager)
    contacts = ContentType.objects.get_for_model(Contact).pk
    bravo_contact = world["b"]["contact"]

    assert objects_on(client, object_type=contacts) == ["Alpha contact (+96597000444)"]
    assert objects_on(client, object="Zulu") == []
    by_id = client.get(URL, {"object": str(bravo_contact.pk), "object_type": contacts})
    assert str(bravo_contact.pk) not in [row["entry"].object_pk for row in by_id.context["entries"]]
    assert _leaks(exported(client, object="Zulu")) == []
    assert _leaks(exported(client, user="bob")) == []


def test_entries_of_a_deleted_row_show_only_to_the_department_they_name(
    client, world, alpha_manager
):
    alpha, bravo = Department.objects.get(name="Alpha"), Department.objects.get(name="Bravo")
    gone = {
        "bravo": Contact.objects.create(phone="+96597000555", name="Zulu gone", department=bravo),
        "alpha": Contact.objects.create(phone="+96597000666", name="Alpha gone", department=alpha),
        "none": Contact.objects.create(phone="+96597000777", name="Nobody's gone"),
    }
    with set_actor(world["bob"]):
        world["b"]["list"].delete()
        for contact in gone.values():
            contact.name += " renamed"  # a change that does not say whose the row was
            contact.save()
            contact.delete()
    client.force_login(alpha_manager)

    page = client.get(URL)
    shown = [(row["entry"].event, row["entry"].object_repr) for row in page.context["entries"]]

    assert _leaks(page.content) == [] and "Zulu gone" not in page.content.decode()
    assert _leaks(exported(client)) == []
    # A creation and a deletion list every field the row had: its department, or none.
    assert ("created", "Alpha gone (+96597000666)") in shown
    assert ("deleted", "Alpha gone renamed (+96597000666)") in shown
    assert ("created", "Nobody's gone (+96597000777)") in shown
    assert ("deleted", "Nobody's gone renamed (+96597000777)") in shown
    # A change alone cannot say whose the row was: hidden once the row is gone.
    assert ("changed", "Alpha gone renamed (+96597000666)") not in shown


def test_a_row_moved_to_the_readers_department_shows_its_entries(client, world, alpha_manager):
    contact = world["b"]["contact"]
    contact.department = Department.objects.get(name="Alpha")
    contact.save()
    client.force_login(alpha_manager)

    shown = objects_on(client, object_type=ContentType.objects.get_for_model(Contact).pk)

    assert shown.count(str(contact)) == 2  # its creation (in Bravo) and its move: now Alpha's


def test_a_manager_of_no_department_reads_the_organisations_entries_only(client, world):
    nobody = Contact.objects.create(phone="+96597000888", name="Everyone's contact")
    client.force_login(_manager_of(username="mgr_none"))

    shown = objects_on(client)

    assert str(nobody) in shown and str(world["account"]) in shown
    assert str(world["a"]["contact"]) not in shown
    assert _leaks(exported(client)) == []


def test_a_superuser_reads_every_entry(client, world):
    client.force_login(UserFactory(username="root", is_superuser=True))
    world["b"]["contact"].delete()

    page = client.get(URL)
    text = exported(client)

    for marker in ("Zulu-secret offer", "Zulu contact", "Zulu list", "Alpha contact"):
        assert marker in page.content.decode() and marker in text, marker
    assert ("deleted", "Zulu contact (+96597000333)") in [
        (row["entry"].event, row["entry"].object_repr) for row in page.context["entries"]
    ]


def test_every_kind_the_trail_records_is_a_departments_or_the_organisations():
    """The kinds registered with auditlog (registration.py) and a kind owned through its
    parent: a department's rows go by their department, the rest are everyone's."""
    assert owner_path(Contact) == owner_path(ContactList) == owner_path(Quota) == "department"
    assert owner_path(Membership) == "contact_list__department"
    assert owner_path(Delivery) == "message__department"
    for everyones in (ProviderAccount, SenderID, OptOut, Department, get_user_model()):
        assert owner_path(everyones) is None, everyones
