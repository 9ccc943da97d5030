"""The contacts page's `?list=` filter, like the export's: another department's list that is
not shared is "not found" (404), not the page of its members among the person's contacts."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from smsportal.contacts.models import Contact, ContactList
from smsportal.core.roles import OPERATOR
from smsportal.departments.models import Department
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_client(client):
    alpha = Department.objects.create(name="Alpha")
    alice = UserFactory(username="alice")
    alice.groups.add(Group.objects.get(name=OPERATOR))
    alpha.members.add(alice)
    client.force_login(alice)
    client.alpha = alpha
    return client


def _list_with_everyone(**fields) -> ContactList:
    """A list holding a contact of no department (every department's)."""
    contact_list = ContactList.objects.create(**fields)
    contact = Contact.objects.get_or_create(phone="+96597000999", name="Org person")[0]
    contact_list.add([contact.pk])
    return contact_list


def _contacts_on(client, contact_list, **headers):
    return client.get(reverse("contacts:contact_list"), {"list": contact_list.pk}, **headers)


def test_another_departments_list_is_not_found(alice_client):
    private = _list_with_everyone(name="Zulu list", department=Department.objects.create(name="B"))

    for headers in ({}, {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "contact-table"}):
        answer = _contacts_on(alice_client, private, **headers)
        assert answer.status_code == 404
        assert "Org person" not in answer.content.decode()
    export = alice_client.get(reverse("contacts:contact_export"), {"list": private.pk})
    assert export.status_code == 404


def test_a_list_that_does_not_exist_is_not_found(alice_client):
    answer = alice_client.get(reverse("contacts:contact_list"), {"list": 999999})

    assert answer.status_code == 404


def test_its_own_and_shared_lists_filter_the_page(alice_client):
    bravo = Department.objects.create(name="Bravo")
    for contact_list in (
        _list_with_everyone(name="Alpha list", department=alice_client.alpha),
        _list_with_everyone(name="Bravo news", department=bravo, shared=True),
    ):
        answer = _contacts_on(alice_client, contact_list)
        assert answer.status_code == 200
        assert "Org person" in answer.content.decode()
