"""In the browser: two departments, each with its own list and its own quota on the same account.
An Operator of Falcon sees only Falcon's list and Falcon's quota (what is left of it in Compose's
preview, its usage on the Quotas page), cannot open Heron's list nor send to it by a guessed id,
sends within Falcon's quota, and is refused over it with what is left; Heron's usage is
untouched, and an Operator of Heron sends what Falcon can no longer send (Falcon's usage does not
count against Heron).

With SCREENSHOTS=<folder> set, each page is saved at 1366 and 390 px wide."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from smsportal.contacts.models import Contact, ContactList
from smsportal.core.roles import OPERATOR
from smsportal.departments.models import Department
from smsportal.messaging.models import Message
from smsportal.quotas import services
from smsportal.quotas.models import Quota, Usage
from tests.browser.test_opt_outs_and_retry import shoot
from tests.factories import PASSWORD, BalanceSnapshotFactory, ProviderAccountFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def kwt(db, script):  # the scripted stand-in for the provider (tests/fakes.py)
    account = ProviderAccountFactory(kind="kwtsms", name="KwtSMS")
    BalanceSnapshotFactory(account=account, amount=Decimal("1000"))
    return account


def _department_with_list(name: str, prefix: str) -> Department:
    """A department with a list of three customers of its own."""
    department = Department.objects.create(name=name)
    customers = [
        Contact.objects.create(
            phone=f"{prefix}{n}", name=f"{name} customer {n}", department=department
        )
        for n in range(1, 4)
    ]
    ContactList.objects.create(name=f"{name} customers", department=department).add(
        [c.pk for c in customers]
    )
    return department


def _operator_of(username: str, department: Department):
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get(name=OPERATOR))
    department.members.add(user)  # their only department: Compose sends as it
    return user


@pytest.fixture
def falcon_and_heron(kwt):
    falcon = _department_with_list("Falcon", "+9659710000")
    heron = _department_with_list("Heron", "+9659720000")
    Quota.objects.create(department=falcon, account=kwt, parts_per_day=5)
    Quota.objects.create(department=heron, account=kwt, parts_per_day=6)
    services.reserve(heron, kwt, parts=1, credit=Decimal("0.01"), message_id=0)  # sent earlier
    return falcon, heron


def used_today(department: Department) -> int:
    usage = Usage.objects.filter(quota__department=department, period=Usage.Period.DAY).first()
    return usage.parts if usage else 0


def compose_to_list(page, live_server, name: str, text: str) -> None:
    page.goto(f"{live_server.url}/messages/compose/")
    page.locator("#id_lists").select_option(label=name)
    page.locator("#id_text").fill(text)
    page.get_by_role("button", name="Send…").click()


def expect_quota_page(page, live_server, mine: Department, theirs: Department, shows: str) -> None:
    page.goto(f"{live_server.url}/quotas/")
    own = page.locator(f"#department-{mine.pk}")
    expect(own.locator("h2")).to_have_text(mine.name)
    expect(own.locator(".quota-bar")).to_contain_text(shows)
    expect(page.locator(".quota-bar")).to_have_count(1)  # theirs is not shown at all
    expect(page.locator(f"#department-{theirs.pk}")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text(theirs.name)


def test_each_department_sends_within_its_own_quota_and_sees_only_its_own(
    page, live_server, login, kwt, falcon_and_heron
):
    falcon, heron = falcon_and_heron
    alice = _operator_of("alice", falcon)
    bob = _operator_of("bob", heron)
    heron_list = ContactList.objects.get(name="Heron customers")
    main = page.locator("main")

    login(alice, PASSWORD)
    expect_quota_page(page, live_server, falcon, heron, "0 of 5")
    shoot(page, "department-quotas-falcon-operator")

    # Compose offers Falcon's list, not Heron's, and sends as Falcon.
    page.goto(f"{live_server.url}/messages/compose/")
    expect(page.locator("#compose-department")).to_contain_text("Falcon")
    lists = page.locator("#id_lists option")
    expect(lists.filter(has_text="Falcon customers")).to_have_count(1)
    expect(lists.filter(has_text="Heron customers")).to_have_count(0)
    page.locator("#id_lists").select_option(label="Falcon customers")
    page.locator("#id_text").fill("Hello from Falcon")
    expect(page.locator("#preview-quota")).to_have_text(
        "Left in the quota of Falcon on KwtSMS: 5 of 5 parts today"
    )
    expect(main).not_to_contain_text("Heron")
    shoot(page, "department-quotas-compose-operator")

    # Heron's list by a guessed id: not found, and not sendable from Compose either.
    assert page.goto(f"{live_server.url}/contacts/lists/{heron_list.pk}/").status == 404
    page.goto(f"{live_server.url}/messages/compose/")
    falcon_option = page.locator("#id_lists option", has_text="Falcon customers")
    falcon_option.evaluate("(option, id) => { option.value = id }", str(heron_list.pk))
    page.locator("#id_lists").select_option(label="Falcon customers")
    page.locator("#id_text").fill("Guessed")
    page.get_by_role("button", name="Send…").click()
    expect(main).to_contain_text(f"{heron_list.pk} is not one of the available choices")
    expect(page.get_by_role("button", name="Confirm and send")).to_have_count(0)

    # Within Falcon's quota: 3 parts of 5.
    compose_to_list(page, live_server, "Falcon customers", "Hello from Falcon")
    page.get_by_role("button", name="Confirm and send").click()
    expect(page).to_have_url(re.compile(r"/messages/\d+/$"))
    sent = Message.objects.get()
    assert sent.department == falcon
    assert sorted(sent.deliveries.values_list("phone", flat=True)) == [
        "+96597100001",
        "+96597100002",
        "+96597100003",
    ]
    expect_quota_page(page, live_server, falcon, heron, "3 of 5")

    # Over Falcon's quota: refused on Compose, saying what is left of Falcon's.
    compose_to_list(page, live_server, "Falcon customers", "Hello again from Falcon")
    expect(
        page.locator("#compose-errors").get_by_text(
            "Over quota: this send needs 3 parts; 2 parts left today in Falcon on KwtSMS."
        )
    ).to_be_visible()
    expect(page.get_by_role("button", name="Confirm and send")).to_have_count(0)
    expect(page.locator("#preview-quota")).to_have_text(
        "Left in the quota of Falcon on KwtSMS: 2 of 5 parts today"
    )
    expect(main).not_to_contain_text("Heron")
    shoot(page, "department-quotas-refused-operator")
    assert Message.objects.count() == 1
    assert (used_today(falcon), used_today(heron)) == (3, 1)  # Heron's counter untouched

    # Heron's Operator sends 3 parts: 1 + 3 fits Heron's 6, which Falcon's 3 would not leave.
    page.context.clear_cookies()
    login(bob, PASSWORD)
    expect_quota_page(page, live_server, heron, falcon, "1 of 6")
    compose_to_list(page, live_server, "Heron customers", "Hello from Heron")
    expect(page.locator("#preview-quota")).to_have_text(
        "Left in the quota of Heron on KwtSMS: 5 of 6 parts today"
    )
    expect(main).not_to_contain_text("Falcon")
    page.get_by_role("button", name="Confirm and send").click()
    expect(page).to_have_url(re.compile(r"/messages/\d+/$"))
    assert Message.objects.get(body="Hello from Heron").department == heron
    expect_quota_page(page, live_server, heron, falcon, "4 of 6")
    shoot(page, "department-quotas-heron-operator")
    assert (used_today(falcon), used_today(heron)) == (3, 4)
