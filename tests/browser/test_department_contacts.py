"""In the browser, as Operator, Manager and superuser: two departments with their own contacts,
lists, templates and imports, and a list Bravo shares with everyone. A member of Alpha sees
and picks in Compose only Alpha's and the shared list (Bravo's own list is "not found"), and
sends to the shared list as Alpha; a superuser sees every department's. A user in no
department is told why their contacts page is empty.

With SCREENSHOTS=<folder> set, each page is saved at 1366 and 390 px wide."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from smsportal.contacts.models import Contact, ContactList, ImportJob
from smsportal.core.roles import OPERATOR
from smsportal.departments.models import Department
from smsportal.message_templates.models import MessageTemplate
from smsportal.messaging.models import Message
from tests.browser.test_opt_outs_and_retry import shoot
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)


@pytest.fixture
def two_departments(db):
    alpha = Department.objects.create(name="Alpha")
    bravo = Department.objects.create(name="Bravo")
    for department, name, shared, phone in [
        (alpha, "Alpha customers", False, "+96597100001"),
        (bravo, "Bravo secret", False, "+96597200001"),
        (bravo, "Bravo newsletter", True, "+96597200002"),
    ]:
        contact = Contact.objects.create(phone=phone, name=f"{name} member", department=department)
        ContactList.objects.create(name=name, department=department, shared=shared).add(
            [contact.pk]
        )
    MessageTemplate.objects.create(name="Alpha hello", text="Hello from Alpha", department=alpha)
    MessageTemplate.objects.create(name="Bravo promo", text="Bravo only", department=bravo)
    for department, file in ((alpha, "alpha-people.csv"), (bravo, "bravo-people.csv")):
        ImportJob.objects.create(
            original_name=file, region="KW", status=ImportJob.Status.DONE, department=department
        )
    return alpha, bravo


def shown(locator, text: str, yes: bool) -> None:
    if yes:
        expect(locator).to_contain_text(text)
    else:
        expect(locator).not_to_contain_text(text)


@pytest.mark.parametrize("role", ["operator", "manager", "superuser"])
def test_contacts_lists_templates_and_imports_are_the_departments(
    page, live_server, login, role, request, account, script, two_departments
):
    alpha, _bravo = two_departments
    user = request.getfixturevalue(role)
    everything = role == "superuser"
    if not everything:
        user.departments.set([alpha])
    main = page.locator("main")
    login(user, PASSWORD)

    page.goto(f"{live_server.url}/contacts/")
    expect(main).to_contain_text("Alpha customers member")
    shown(main, "Bravo secret member", everything)
    shoot(page, f"department-contacts-{role}")

    page.goto(f"{live_server.url}/contacts/lists/")
    expect(main).to_contain_text("Alpha customers")
    expect(main).to_contain_text("Bravo newsletter")
    shared = ContactList.objects.get(name="Bravo newsletter")
    expect(page.locator(f'[data-shared="{shared.pk}"]')).to_be_visible()
    shown(main, "Bravo secret", everything)
    shoot(page, f"department-lists-{role}")

    secret = ContactList.objects.get(name="Bravo secret")
    answer = page.goto(f"{live_server.url}/contacts/lists/{secret.pk}/")
    assert answer.status == (200 if everything else 404)

    page.goto(f"{live_server.url}/contacts/lists/{shared.pk}/")
    expect(page.locator("#list-department")).to_contain_text("Bravo")
    edit = page.get_by_role("link", name="Edit", exact=True)
    expect(edit).to_have_count(1 if everything else 0)
    shoot(page, f"department-shared-list-{role}")

    page.goto(f"{live_server.url}/templates/")
    expect(main).to_contain_text("Alpha hello")
    shown(main, "Bravo promo", everything)
    shoot(page, f"department-templates-{role}")

    page.goto(f"{live_server.url}/contacts/imports/")
    expect(main).to_contain_text("alpha-people.csv")
    shown(main, "bravo-people.csv", everything)
    shoot(page, f"department-imports-{role}")

    # Compose offers the chosen department's lists and templates (and shared lists): a
    # superuser, who may send for any, sees Bravo's once Bravo is chosen.
    page.goto(f"{live_server.url}/messages/compose/")
    page.wait_for_load_state("load")
    lists = page.locator("#id_lists option")
    expect(lists.filter(has_text="Alpha customers")).to_have_count(1)
    expect(lists.filter(has_text="Bravo newsletter")).to_have_count(1)
    expect(lists.filter(has_text="Bravo secret")).to_have_count(0)
    templates = page.locator("#template-picker option")
    expect(templates.filter(has_text="Alpha hello")).to_have_count(1)
    expect(templates.filter(has_text="Bravo promo")).to_have_count(0)
    shoot(page, f"department-compose-pickers-{role}")
    if everything:
        page.get_by_label("Department").select_option(label="Bravo")
        expect(lists.filter(has_text="Bravo secret")).to_have_count(1)
        expect(templates.filter(has_text="Bravo promo")).to_have_count(1)
        expect(lists.filter(has_text="Alpha customers")).to_have_count(0)

    if not everything:
        page.locator("#id_lists").select_option(label="Bravo newsletter")
        hello = MessageTemplate.objects.get(name="Alpha hello")
        page.locator("#template-picker").select_option(value=str(hello.pk))
        expect(page.locator("#id_text")).to_have_value("Hello from Alpha")
        page.get_by_role("button", name="Send…").click()
        page.get_by_role("button", name="Confirm and send").click()
        expect(page.get_by_role("alert").first).to_contain_text("was handed to the send queue")
        message = Message.objects.get()
        assert message.department == alpha
        assert list(message.deliveries.values_list("phone", flat=True)) == ["+96597200002"]


def test_a_user_in_no_department_is_told_why_there_are_no_contacts(page, live_server, login):
    loner = UserFactory(username="loner")
    loner.groups.add(Group.objects.get(name=OPERATOR))
    login(loner, PASSWORD)

    for path in ("/contacts/", "/contacts/lists/"):
        page.goto(f"{live_server.url}{path}")
        expect(page.locator("#no-department")).to_contain_text("ask a Manager")
    shoot(page, "department-lists-no-department")
    expect(page.get_by_role("link", name="New list")).to_have_count(0)
