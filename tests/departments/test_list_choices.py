"""Compose and the recurring-send form offer the lists (and Compose the templates) of the
department chosen on the form, and shared ones; when the department changes, htmx swaps them in
place (one view serves the page and the fragment). Without JavaScript the page shows the chosen
department's after "Preview", and a list of another department is still refused on submit."""

from __future__ import annotations

import re
from datetime import date, time

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from smsportal.contacts.models import ContactList
from smsportal.core.roles import OPERATOR
from smsportal.departments.models import Department
from smsportal.message_templates.models import MessageTemplate
from smsportal.recurring.models import RecurringSend
from tests.factories import UserFactory
from tests.support.compose import confirm_and_send

pytestmark = pytest.mark.django_db

COMPOSE = reverse("messaging:compose")
RECURRING = reverse("recurring:create")
HTMX = {"HX-Request": "true"}


@pytest.fixture
def two(client):
    """Alice is in Alpha and Bravo; each has a private list and a template, Bravo shares a
    list with everyone; Charlie's list is not hers at all."""
    alpha, bravo = Department.objects.create(name="Alpha"), Department.objects.create(name="Bravo")
    charlie = Department.objects.create(name="Charlie")
    alice = UserFactory(username="alice")
    alice.groups.add(Group.objects.get(name=OPERATOR))
    alpha.members.add(alice)
    bravo.members.add(alice)
    lists = {
        name: ContactList.objects.create(name=name, department=department, shared=shared)
        for name, department, shared in [
            ("Alpha customers", alpha, False),
            ("Bravo secret", bravo, False),
            ("Bravo newsletter", bravo, True),
            ("Charlie private", charlie, False),
        ]
    }
    for department, name in [(alpha, "Alpha welcome"), (bravo, "Bravo welcome")]:
        MessageTemplate.objects.create(department=department, name=name, text=f"{name} text")
    client.force_login(alice)
    return {"alpha": alpha, "bravo": bravo, "lists": lists, "alice": alice}


def offered(html: str, select: str = "lists") -> list[str]:
    """The options of the <select name=`select`> (the template picker by its id), in order."""
    pattern = rf'<select[^>]*(?:name|id)="{select}"[^>]*>(.*?)</select>'
    found = re.search(pattern, html, re.S)
    assert found, f"no {select} select"
    return [label.strip() for label in re.findall(r"<option[^>]*>([^<]*)", found.group(1))]


def selected(html: str) -> list[str]:
    found = re.search(r'<select[^>]*name="lists"[^>]*>(.*?)</select>', html, re.S)
    return re.findall(r"<option[^>]*selected[^>]*>([^<]*)", found.group(1))


def test_compose_offers_the_first_departments_lists_and_templates_and_shared_lists(client, two):
    page = client.get(COMPOSE).content.decode()

    assert offered(page) == ["Alpha customers", "Bravo newsletter"]
    assert [o.split(" · ")[0] for o in offered(page, "template-picker")] == ["—", "Alpha welcome"]
    assert 'hx-trigger="change from:#id_department"' in page


def test_choosing_another_department_swaps_compose_lists_and_templates_in_place(client, two):
    lists = two["lists"]
    query = {
        "department": two["bravo"].pk,
        "lists": [lists["Alpha customers"].pk, lists["Bravo newsletter"].pk],
    }

    fragment = client.get(
        COMPOSE, query, headers={**HTMX, "HX-Target": "department-choices"}
    ).content.decode()

    assert fragment.lstrip().startswith('<div id="department-choices"')
    assert "<html" not in fragment
    assert offered(fragment) == ["Bravo newsletter", "Bravo secret"]
    assert selected(fragment) == ["Bravo newsletter"]  # Alpha's list let go, the shared kept
    assert [o.split(" · ")[0] for o in offered(fragment, "template-picker")] == [
        "—",
        "Bravo welcome",
    ]


def test_without_javascript_preview_shows_the_chosen_departments_lists(client, two):
    form = {"department": two["bravo"].pk, "text": "Hi", "action": "preview"}

    page = client.post(COMPOSE, form).content.decode()

    assert offered(page) == ["Bravo newsletter", "Bravo secret"]


def test_another_departments_list_is_still_refused_on_submit_with_the_reason(client, two, account):
    secret = two["lists"]["Bravo secret"]
    form = {
        "account": account.pk,
        "department": two["alpha"].pk,
        "text": "Hi",
        "token": "t1",
        "lists": [secret.pk],
    }

    page = confirm_and_send(client, form).content.decode()

    assert "Bravo secret is a list of Bravo, not of Alpha" in page


def test_send_to_this_list_opens_compose_for_the_lists_department(client, two):
    secret = two["lists"]["Bravo secret"]

    page = client.get(COMPOSE, {"list": secret.pk}).content.decode()

    assert re.search(rf'<option value="{two["bravo"].pk}" selected>Bravo</option>', page)
    assert selected(page) == ["Bravo secret"]


def test_the_recurring_form_offers_the_chosen_departments_lists_and_swaps_them(client, two):
    page = client.get(RECURRING).content.decode()
    assert offered(page) == ["Alpha customers", "Bravo newsletter"]
    assert 'hx-trigger="change from:#id_department"' in page

    fragment = client.get(
        RECURRING,
        {"department": two["bravo"].pk, "lists": [two["lists"]["Alpha customers"].pk]},
        headers={**HTMX, "HX-Target": "department-lists"},
    ).content.decode()
    assert fragment.lstrip().startswith('<div id="department-lists"')
    assert offered(fragment) == ["Bravo newsletter", "Bravo secret"]
    assert selected(fragment) == []


def test_editing_a_recurring_send_offers_its_departments_lists(client, two, account):
    schedule = RecurringSend(
        name="Weekly",
        department=two["bravo"],
        account=account,
        text="Hello",
        frequency="weekly",
        weekdays=[0],
        time_of_day=time(9, 0),
        timezone="UTC",
        starts_on=date(2030, 1, 1),
    )
    schedule.plan()
    schedule.save()
    schedule.lists.set([two["lists"]["Bravo secret"]])
    edit = reverse("recurring:edit", args=[schedule.pk])

    page = client.get(edit).content.decode()
    assert offered(page) == ["Bravo newsletter", "Bravo secret"]
    assert selected(page) == ["Bravo secret"]

    fragment = client.get(
        edit,
        {"department": two["alpha"].pk},
        headers={**HTMX, "HX-Target": "department-lists"},
    ).content.decode()
    assert offered(fragment) == ["Alpha customers", "Bravo newsletter"]


def test_without_javascript_a_refused_recurring_send_shows_the_chosen_departments_lists(
    client, two, account
):
    secret = two["lists"]["Alpha customers"]
    form = {"name": "Weekly", "department": two["bravo"].pk, "account": account.pk}

    page = client.post(RECURRING, {**form, "lists": [secret.pk], "text": "Hi"}).content.decode()

    assert "Alpha customers is a list of Alpha, not of Bravo" in page
    assert offered(page) == ["Bravo newsletter", "Bravo secret"]
    assert not RecurringSend.objects.exists()
