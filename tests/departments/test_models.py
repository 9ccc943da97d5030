import pytest
from django.db import IntegrityError

from smsportal.departments.models import Department
from tests.factories import UserFactory


@pytest.fixture
def operator(db):
    """A user in no department yet (the conftest's operator is in "General")."""
    return UserFactory(username="staff")


@pytest.fixture
def sales(db):
    return Department.objects.create(name="Sales")


@pytest.fixture
def support(db):
    return Department.objects.create(name="Support")


def test_staff_see_only_their_own_departments(operator, sales, support):
    sales.members.add(operator)

    assert list(Department.objects.of(operator)) == [sales]


def test_a_user_may_be_in_several_departments(operator, sales, support):
    operator.departments.add(sales, support)

    assert list(Department.objects.of(operator)) == [sales, support]


def test_a_superuser_sees_every_department(admin_user, sales, support):
    assert list(Department.objects.of(admin_user)) == [sales, support]


def test_a_user_in_no_department_sees_none(operator, sales):
    assert not Department.objects.of(operator).exists()


def test_names_are_unique_whatever_their_case(sales):
    with pytest.raises(IntegrityError):
        Department.objects.create(name="SALES")
