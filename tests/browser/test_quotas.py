"""Quotas in the browser: a send over quota is refused, saying what is left, at the
confirmation and again at the send (another send took the room in between); the Manager sees
the usage on the Quotas page and the dashboard."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from smsportal.messaging.models import Message
from smsportal.quotas import services
from smsportal.quotas.models import Quota, Usage
from tests.factories import PASSWORD, BalanceSnapshotFactory, ProviderAccountFactory

pytestmark = pytest.mark.django_db(transaction=True)

NUMBERS = "+965 9711 9440\n+965 9711 9441\n+965 9711 9442"


@pytest.fixture
def kwt(db, script):  # the scripted stand-in for the provider (tests/fakes.py)
    account = ProviderAccountFactory(kind="kwtsms", name="KwtSMS")
    BalanceSnapshotFactory(account=account, amount=Decimal("1000"))
    return account


@pytest.fixture
def sales(operator, manager):
    from smsportal.departments.models import Department

    department = Department.objects.create(name="Sales")
    operator.departments.set([department])  # their only one: compose fixes it
    manager.departments.add(department)
    return department


def compose(page, live_server, text: str = "Hello from Sales") -> None:
    page.goto(f"{live_server.url}/messages/compose/")
    page.get_by_label("Numbers").fill(NUMBERS)
    page.get_by_label("Message").fill(text)
    page.get_by_role("button", name="Send…").click()


def test_a_send_over_quota_is_refused_with_what_is_left(
    page, live_server, login, operator, kwt, sales
):
    Quota.objects.create(department=sales, account=kwt, parts_per_day=5)
    services.reserve(sales, kwt, parts=3, credit=Decimal("0.03"), message_id=0)
    login(operator, PASSWORD)

    compose(page, live_server)

    expect(
        page.locator("#compose-errors").get_by_text(
            "Over quota: this send needs 3 parts; 2 parts left today in Sales on KwtSMS."
        )
    ).to_be_visible()
    expect(page.get_by_role("button", name="Confirm and send")).to_have_count(0)
    assert not Message.objects.exists()


def test_a_send_confirmed_after_the_room_went_is_refused_at_the_send(
    page, live_server, login, operator, kwt, sales
):
    Quota.objects.create(department=sales, parts_per_month=4)
    login(operator, PASSWORD)
    compose(page, live_server)
    expect(page.get_by_role("button", name="Confirm and send")).to_be_visible()

    services.reserve(sales, kwt, parts=2, credit=Decimal("0.02"), message_id=0)  # another send
    page.get_by_role("button", name="Confirm and send").click()

    expect(
        page.locator("#compose-errors").get_by_text(
            "2 parts left this month in Sales on all accounts"
        )
    ).to_be_visible()
    assert not Message.objects.exists()
    assert Usage.objects.get().parts == 2


def test_a_send_within_quota_goes_and_its_usage_shows(
    page, live_server, login, operator, manager, kwt, sales
):
    Quota.objects.create(department=sales, account=kwt, parts_per_day=10)
    login(operator, PASSWORD)
    compose(page, live_server)
    page.get_by_role("button", name="Confirm and send").click()
    expect(page).to_have_url(re.compile(r"/messages/\d+/$"))

    page.goto(f"{live_server.url}/quotas/")
    expect(page.locator(".quota-bar")).to_contain_text("3 of 10")
    page.goto(f"{live_server.url}/")
    expect(page.locator("#quota-usage")).to_contain_text("Sales · KwtSMS")
