"""A person's department ids (departments/scope.py `department_ids`), asked by every page an
Operator or Manager opens: the SQL compiled once per connection, the ids read afresh on every
call, the same ids as `Department.objects.of` gives, an API key still narrowed to its own."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser

from smsportal.departments.models import Department
from smsportal.departments.scope import department_ids
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def orm_ids(user) -> list[int]:
    return list(Department.objects.of(user).values_list("pk", flat=True))


def test_the_ids_are_the_orms_and_read_afresh_in_one_query(django_assert_num_queries):
    bravo, alpha = Department.objects.create(name="Bravo"), Department.objects.create(name="Alpha")
    person, nobody = UserFactory(username="person"), UserFactory(username="nobody")
    bravo.members.add(person)
    department_ids(person)  # compiled on this connection
    with django_assert_num_queries(1):
        ids = department_ids(person)
    assert ids == orm_ids(person) == [bravo.pk]
    alpha.members.add(person)  # seen by the very next call (nothing kept but the SQL)
    with django_assert_num_queries(1):
        ids = department_ids(person)
    assert ids == orm_ids(person) == [alpha.pk, bravo.pk]  # in the order of their names
    assert department_ids(SimpleNamespace(user=person, auth=None)) == [alpha.pk, bravo.pk]
    assert department_ids(nobody) == orm_ids(nobody) == []
    boss = UserFactory(username="boss", is_superuser=True)
    assert department_ids(boss) == orm_ids(boss) == [alpha.pk, bravo.pk]
    assert department_ids(AnonymousUser()) == []


def test_through_an_api_key_only_the_keys_department_while_its_user_is_in_it():
    alpha, bravo = Department.objects.create(name="Alpha"), Department.objects.create(name="Bravo")
    person = UserFactory(username="person")
    alpha.members.add(person)
    bravo.members.add(person)
    request = SimpleNamespace(user=person, auth=SimpleNamespace(department_id=bravo.pk))
    assert department_ids(request) == [bravo.pk]
    bravo.members.remove(person)
    assert department_ids(request) == []
