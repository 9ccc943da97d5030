"""The department field of the forms that send for a department (departments/forms.py): the
department it already read is not read again to clean the same value."""

from __future__ import annotations

import pytest
from django import forms

from smsportal.departments.forms import DepartmentField
from smsportal.departments.models import Department
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


class OneField(forms.Form):
    department = DepartmentField(required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["department"]
        field.limit_to(user)
        self.chosen = field.chosen(self["department"].value())


@pytest.fixture
def departments():
    Department.objects.all().delete()
    return [Department.objects.create(name=name) for name in ("Audit", "Finance", "Sales")]


def test_the_only_department_posted_is_not_read_again(departments, django_assert_num_queries):
    user = UserFactory()
    departments[2].members.add(user)
    with django_assert_num_queries(1):  # the user's first two departments
        form = OneField({"department": str(departments[2].pk)}, user=user)
        assert form.is_valid(), form.errors
    assert form.cleaned_data["department"] == departments[2]


def test_the_chosen_department_is_read_once(departments, django_assert_num_queries):
    user = UserFactory()
    for department in departments:
        department.members.add(user)
    with django_assert_num_queries(2):  # the first two, then the one posted
        form = OneField({"department": str(departments[2].pk)}, user=user)
        assert form.is_valid(), form.errors
    assert form.chosen == form.cleaned_data["department"] == departments[2]


def test_a_department_not_theirs_is_still_refused(departments):
    user = UserFactory()
    departments[0].members.add(user)
    departments[1].members.add(user)
    form = OneField({"department": str(departments[2].pk)}, user=user)
    assert not form.is_valid()
    assert "department" in form.errors
    assert form.chosen == departments[0]  # the first of theirs, as the select shows it
    alone = UserFactory()
    departments[0].members.add(alone)
    refused = OneField({"department": str(departments[1].pk)}, user=alone)
    assert not refused.is_valid() and "department" in refused.errors
    for value in ("", None):
        given = OneField({"department": value} if value is not None else {}, user=alone)
        assert given.is_valid() and given.cleaned_data["department"] == departments[0]
