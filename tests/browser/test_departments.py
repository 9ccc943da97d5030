"""In the browser: two departments with their own messages and threads. An Operator of one
sees and uses only theirs (another's message page is "not found"), sends as theirs; a Manager
creates a department and adds the Operator, who then chooses which department a message is
for; a user in no department is told why they cannot send; a superuser sees every department.

With SCREENSHOTS=<folder> set, each page is saved at 1366 and 390 px wide."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from smsportal.core.roles import OPERATOR
from smsportal.departments.models import Department
from smsportal.messaging.inbound import receive
from smsportal.messaging.models import Message
from smsportal.messaging.sending import ResolvedRecipients
from smsportal.providers.backends.base import InboundSMS
from tests.browser.test_opt_outs_and_retry import shoot
from tests.factories import PASSWORD, UserFactory
from tests.support.sending import create_message

pytestmark = pytest.mark.django_db(transaction=True)


def _operator(username, *departments):
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get(name=OPERATOR))
    for department in departments:
        department.members.add(user)
    return user


def _message_and_thread(account, department, word, phone):
    create_message(
        account=account,
        body=f"{word} offer",
        recipients=ResolvedRecipients(phones=[phone]),
        department=department,
    )
    receive(account, InboundSMS(sender=phone, recipient="", text=f"{word} question", raw={}))


@pytest.fixture
def two_departments(account, script):
    alpha = Department.objects.create(name="Alpha")
    bravo = Department.objects.create(name="Bravo")
    _message_and_thread(account, alpha, "Alpha-own", "+96597000111")
    _message_and_thread(account, bravo, "Zulu-secret", "+96597000222")
    return alpha, bravo


def test_an_operator_of_one_department_cannot_see_or_use_the_others(
    page, live_server, login, account, two_departments
):
    alpha, bravo = two_departments
    alice = _operator("alice", alpha)
    theirs = Message.objects.get(department=bravo)

    login(alice, PASSWORD)
    page.goto(f"{live_server.url}/messages/")
    expect(page.locator("main")).to_contain_text("Alpha-own offer")
    expect(page.locator("main")).not_to_contain_text("Zulu-secret")
    shoot(page, "departments-messages-operator")

    page.goto(f"{live_server.url}/messages/inbox/")
    expect(page.locator("main")).to_contain_text("Alpha-own question")
    expect(page.locator("main")).not_to_contain_text("Zulu-secret")

    answer = page.goto(f"{live_server.url}/messages/{theirs.pk}/")
    assert answer.status == 404

    page.goto(f"{live_server.url}/messages/compose/")
    expect(page.locator("#compose-department")).to_contain_text("Alpha")
    shoot(page, "departments-compose-one-operator")
    page.get_by_label("Numbers").fill("+96550000001")
    page.locator("#id_text").fill("Hello from Alpha")
    page.get_by_role("button", name="Send…").click()
    page.get_by_role("button", name="Confirm and send").click()
    expect(page.get_by_role("alert").first).to_contain_text("was handed to the send queue")
    assert Message.objects.get(body="Hello from Alpha").department == alpha


def test_a_manager_adds_an_operator_to_a_second_department_who_then_chooses(
    page, live_server, login, manager, account, two_departments
):
    alpha, _bravo = two_departments
    alice = _operator("alice", alpha)

    login(manager, PASSWORD)
    page.goto(f"{live_server.url}/departments/")
    shoot(page, "departments-list-manager")
    page.get_by_label("Name").fill("Field sales")
    page.get_by_role("button", name="Create department").click()
    expect(page.locator("h1")).to_have_text("Field sales")
    expect(page.get_by_role("alert").first).to_contain_text("with you as its first member")
    expect(page.locator("#department-members")).to_contain_text("manager")
    page.get_by_label("Add a user").select_option(label="alice")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator("#department-members")).to_contain_text("alice")
    shoot(page, "departments-detail-manager")

    page.context.clear_cookies()
    login(alice, PASSWORD)
    page.goto(f"{live_server.url}/messages/compose/")
    choice = page.get_by_label("Department")
    expect(choice.locator("option")).to_have_text(["Alpha", "Field sales"])
    shoot(page, "departments-compose-several-operator")


def test_a_user_in_no_department_is_told_why_they_cannot_send(page, live_server, login, account):
    loner = _operator("loner")

    login(loner, PASSWORD)
    page.goto(f"{live_server.url}/messages/compose/")

    expect(page.locator("#no-department")).to_contain_text("no department")
    shoot(page, "departments-compose-none-operator")
    page.goto(f"{live_server.url}/messages/")
    expect(page.locator("main")).not_to_contain_text("offer")


def test_a_superuser_sees_every_department_and_message(
    page, live_server, login, account, two_departments
):
    root = get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)

    login(root, PASSWORD)
    page.goto(f"{live_server.url}/departments/")
    expect(page.locator("#department-table")).to_contain_text("Alpha")
    expect(page.locator("#department-table")).to_contain_text("Bravo")
    shoot(page, "departments-list-superuser")
    page.goto(f"{live_server.url}/messages/")
    expect(page.locator("main")).to_contain_text("Alpha-own offer")
    expect(page.locator("main")).to_contain_text("Zulu-secret offer")
    shoot(page, "departments-messages-superuser")


@pytest.mark.parametrize("role", ["operator", "manager", "superuser"])
def test_compose_and_recurring_lists_follow_the_chosen_department(
    page, live_server, login, account, role
):
    """A person with several departments (a superuser has them all): Compose and the recurring
    form offer the chosen department's lists (and shared ones), Compose its templates too,
    swapped in place when the department changes; what was typed stays."""
    from smsportal.contacts.models import ContactList
    from smsportal.core.roles import MANAGER
    from smsportal.message_templates.models import MessageTemplate

    alpha, bravo = Department.objects.create(name="Alpha"), Department.objects.create(name="Bravo")
    for name, department, shared in [
        ("Alpha customers", alpha, False),
        ("Bravo secret", bravo, False),
        ("Bravo newsletter", bravo, True),
    ]:
        ContactList.objects.create(name=name, department=department, shared=shared)
    MessageTemplate.objects.create(department=alpha, name="Alpha welcome", text="Hi from Alpha")
    bravos = MessageTemplate.objects.create(
        department=bravo, name="Bravo welcome", text="Hi from Bravo"
    )
    if role == "superuser":
        person = get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    else:
        person = _operator(role, alpha, bravo)
        if role == "manager":
            person.groups.set([Group.objects.get(name=MANAGER)])

    login(person, PASSWORD)
    page.goto(f"{live_server.url}/messages/compose/")
    page.wait_for_load_state("load")
    lists = page.get_by_label("Lists")
    expect(lists.locator("option")).to_have_text(["Alpha customers", "Bravo newsletter"])
    page.locator("#id_text").fill("Kept while the department changes")
    page.get_by_label("Department").select_option(label="Bravo")
    expect(lists.locator("option")).to_have_text(["Bravo newsletter", "Bravo secret"])
    picker = page.locator("#template-picker option")
    expect(picker).to_have_text(["—", re.compile("^Bravo welcome")])
    page.locator("#template-picker").select_option(value=str(bravos.pk))
    expect(page.locator("#id_text")).to_have_value("Hi from Bravo")
    shoot(page, f"departments-compose-lists-follow-{role}")

    page.goto(f"{live_server.url}/recurring/add/")
    page.wait_for_load_state("load")
    lists = page.get_by_label("Lists")
    expect(lists.locator("option")).to_have_text(["Alpha customers", "Bravo newsletter"])
    page.get_by_label("Department").select_option(label="Bravo")
    expect(lists.locator("option")).to_have_text(["Bravo newsletter", "Bravo secret"])
    shoot(page, f"departments-recurring-lists-follow-{role}")
