"""The Managers' department pages: create, rename, add and remove members, each in the audit
trail; Operators may not."""

from __future__ import annotations

import pytest
from auditlog import get_logentry_model
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from smsportal.departments.models import Department
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIST = reverse("departments:list")


def entries_of(department) -> list:
    return list(
        get_logentry_model()
        .objects.filter(
            content_type=ContentType.objects.get_for_model(Department),
            object_pk=str(department.pk),
        )
        .order_by("id")
    )


def test_a_manager_creates_a_department_and_the_trail_records_it(manager_client):
    answer = manager_client.post(LIST, {"name": "  Field   sales "})

    department = Department.objects.get(name="Field sales")
    assert answer["Location"] == reverse("departments:detail", args=[department.pk])
    assert entries_of(department)[0].action == get_logentry_model().Action.CREATE
    page = manager_client.get(LIST).content.decode()
    assert "Field sales" in page


@pytest.mark.parametrize("name", ["general", "   "])
def test_a_taken_or_empty_name_is_refused_with_the_reason(manager_client, name):
    answer = manager_client.post(LIST, {"name": name})

    assert answer.status_code == 200
    assert Department.objects.count() == 1  # only the conftest's "General"
    assert 'class="invalid-feedback' in answer.content.decode()


def test_a_rename_is_recorded_with_before_and_after(manager_client):
    department = Department.objects.create(name="Sales")

    manager_client.post(reverse("departments:detail", args=[department.pk]), {"name": "Retail"})

    department.refresh_from_db()
    assert department.name == "Retail"
    assert entries_of(department)[-1].changes_dict["name"] == ["Sales", "Retail"]


def test_members_are_added_and_removed_and_each_change_is_recorded(manager_client):
    department = Department.objects.create(name="Sales")
    dana = UserFactory(username="dana")

    manager_client.post(reverse("departments:member_add", args=[department.pk]), {"user": dana.pk})
    assert list(department.members.all()) == [dana]
    page = manager_client.get(reverse("departments:detail", args=[department.pk])).content
    assert b"dana" in page

    manager_client.post(reverse("departments:member_remove", args=[department.pk, dana.pk]))
    assert not department.members.exists()

    member_changes = [e.changes_dict.get("members") for e in entries_of(department)]
    operations = [change["operation"] for change in member_changes if change]
    assert operations == ["add", "delete"]


def test_adding_someone_already_in_is_refused(manager_client, manager):
    general = Department.objects.get(name="General")

    manager_client.post(
        reverse("departments:member_add", args=[general.pk]), {"user": manager.pk}, follow=True
    )

    assert list(general.members.all()) == [manager]


def test_an_operator_can_neither_see_nor_change_departments(operator_client, operator):
    general = Department.objects.get(name="General")

    assert operator_client.get(LIST).status_code == 403
    assert operator_client.post(LIST, {"name": "Mine"}).status_code == 403
    remove = reverse("departments:member_remove", args=[general.pk, operator.pk])
    assert operator_client.post(remove).status_code == 403
    assert not Department.objects.filter(name="Mine").exists()
    assert general.members.filter(pk=operator.pk).exists()


def test_the_manager_who_creates_a_department_is_its_first_member_and_is_told(
    manager_client, manager
):
    answer = manager_client.post(LIST, {"name": "Field sales"}, follow=True)

    department = Department.objects.get(name="Field sales")
    assert list(department.members.all()) == [manager]
    assert "with you as its first member" in answer.content.decode()
    assert Department.objects.of(manager).filter(pk=department.pk).exists()


def test_a_superuser_who_creates_a_department_is_not_made_a_member(client, django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@example.com", "x")
    client.force_login(root)

    answer = client.post(LIST, {"name": "Field sales"}, follow=True)

    department = Department.objects.get(name="Field sales")
    assert not department.members.exists()
    assert "Add its members below" in answer.content.decode()
