"""A list another department did not share is "not found" to a key (docs/departments.md): the
contacts filter `?list=` answers 404 for it, as its members do, and a contact's `lists` names
only the lists the key may see, so neither tells who is on it."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from smsportal.contacts.models import Contact, ContactList
from smsportal.core.roles import OPERATOR
from smsportal.departments.models import Department
from tests.api.conftest import caller_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def lists():
    """Alpha's and Bravo's private lists and Bravo's shared one, each holding the same contact
    of no department (the whole organisation's, seen by every key)."""
    alpha = Department.objects.create(name="Alpha")
    bravo = Department.objects.create(name="Bravo")
    alice = UserFactory(username="alice")
    alice.groups.add(Group.objects.get(name=OPERATOR))
    alpha.members.add(alice)
    everyone = Contact.objects.create(phone="+96597000999", name="Org person")
    made = {
        "alpha": ContactList.objects.create(name="Alpha list", department=alpha),
        "bravo": ContactList.objects.create(name="Zulu list", department=bravo),
        "shared": ContactList.objects.create(name="Bravo news", department=bravo, shared=True),
    }
    for contact_list in made.values():
        contact_list.add([everyone.pk])
    return {**made, "contact": everyone, "call": caller_for(alice)}


def test_the_list_filter_is_a_404_for_another_departments_list(lists):
    answer = lists["call"]("GET", f"/api/v1/contacts?list={lists['bravo'].pk}")

    assert answer.status_code == 404
    assert "Org person" not in answer.content.decode()


def test_the_list_filter_is_a_404_for_a_list_that_does_not_exist(lists):
    assert lists["call"]("GET", "/api/v1/contacts?list=999999").status_code == 404


def test_the_list_filter_finds_the_members_of_its_own_and_shared_lists(lists):
    for name in ("alpha", "shared"):
        answer = lists["call"]("GET", f"/api/v1/contacts?list={lists[name].pk}")

        assert answer.status_code == 200
        assert [c["name"] for c in answer.json()["results"]] == ["Org person"]


def test_a_contact_names_only_the_lists_the_key_may_see(lists):
    seen = sorted([lists["alpha"].pk, lists["shared"].pk])
    call, contact = lists["call"], lists["contact"]

    assert call("GET", f"/api/v1/contacts/{contact.pk}").json()["lists"] == seen
    assert call("GET", "/api/v1/contacts").json()["results"][0]["lists"] == seen
    members = call("GET", f"/api/v1/lists/{lists['alpha'].pk}/members").json()["results"]
    assert members[0]["lists"] == seen
    changed = call("PATCH", f"/api/v1/contacts/{contact.pk}", {"name": "Org person 2"})
    assert changed.json()["lists"] == seen
