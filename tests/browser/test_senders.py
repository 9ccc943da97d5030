from __future__ import annotations

import pytest
from playwright.sync_api import expect

from smsportal.senders.models import SenderID
from tests.credits.fakes import install
from tests.factories import PASSWORD, ProviderAccountFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_manager_adds_a_sender_id_and_makes_it_the_default(
    page, live_server, login, manager, monkeypatch
):
    install(monkeypatch)
    ProviderAccountFactory(kind="isms", name="ISMS main")
    login(manager, PASSWORD)

    page.goto(f"{live_server.url}/senders/")
    expect(page.get_by_text("No sender IDs")).to_be_visible()
    page.get_by_role("link", name="Add sender ID").click()
    page.wait_for_load_state()  # htmx listens from the load on: a change before it is lost
    page.get_by_label("Account").select_option(label="ISMS main")
    page.get_by_label("Sender ID").fill("60123456789012")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".invalid-feedback")).to_contain_text("at most 13 digits")

    page.get_by_label("Sender ID").fill("MyShop")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#messages")).to_contain_text("“MyShop” added")

    page.get_by_role("button", name="Make default").click()
    expect(page.locator("#sender-table")).to_contain_text("default")
    assert SenderID.objects.get(value="MyShop").is_default


def _uses_of_the_portal_sender(account) -> None:
    """What a new user found using the sender ID they retired: three scheduled messages, a
    recurring send, the Routing default and a route."""
    from datetime import time, timedelta

    from django.utils import timezone

    from smsportal.messaging.models import Message
    from smsportal.recurring.models import RecurringSend
    from smsportal.routing.models import AccountRouting, Route, RouteAccount

    for _ in range(3):
        Message.objects.create(
            account=account,
            sender="SMS-PORTAL",
            body="Sale tomorrow",
            encoding="gsm7",
            segments=1,
            status=Message.Status.SCHEDULED,
            scheduled_for=timezone.now() + timedelta(days=1),
        )
    schedule = RecurringSend(
        name="Friday offers",
        account=account,
        sender="SMS-PORTAL",
        text="This week's offers",
        frequency="daily",
        time_of_day=time(9, 0),
        timezone="Asia/Kuwait",
        starts_on=timezone.localdate(),
    )
    schedule.plan()
    schedule.save()
    AccountRouting.objects.update_or_create(
        account=account, defaults={"default_sender": "SMS-PORTAL"}
    )
    route = Route.objects.create(name="Portal customers", sender="sms-portal", position=2)
    RouteAccount.objects.create(route=route, account=account)


def test_retire_shows_what_uses_the_sender_id_and_keep_it_changes_nothing(
    page, live_server, login, manager, sandbox_account
):
    from tests.support.portal_data import populate

    accounts = populate(sandbox_account, manager)
    _uses_of_the_portal_sender(accounts["kwtsms"])
    login(manager, PASSWORD)
    page.goto(f"{live_server.url}/senders/?account={accounts['kwtsms'].pk}")

    page.get_by_role("link", name="Retire").click()
    uses = page.locator("#sender-uses")
    expect(uses).to_contain_text("3 scheduled messages not yet sent")
    expect(uses).to_contain_text("1 active recurring send")
    expect(uses.get_by_role("link", name="Friday offers")).to_be_visible()
    expect(uses).to_contain_text("default sender ID for routed messages")
    expect(uses.get_by_role("link", name="Portal customers")).to_be_visible()
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth - innerWidth") <= 0

    page.get_by_role("link", name="Keep it").click()
    expect(page.locator("#sender-table")).to_contain_text("SMS-PORTAL")
    assert SenderID.objects.get(value="SMS-PORTAL").status == "active"

    page.get_by_role("link", name="Retire").click()
    page.get_by_role("button", name="Retire").click()
    expect(page.locator("#messages")).to_contain_text("“SMS-PORTAL” is retired")
    assert SenderID.objects.get(value="SMS-PORTAL").status == "retired"


def test_the_sender_ids_turn_into_cards_at_390_with_every_action_on_screen(
    page, live_server, login, manager, sandbox_account
):
    """At 390 px each sender ID is a card, its Make default, Edit and Retire under the rest (the
    table scrolled sideways in its box and left them off-screen)."""
    from tests.support.portal_data import populate

    accounts = populate(sandbox_account, manager)
    SenderID.objects.create(
        account=accounts["kwtsms"], value="SHOP-OFFERS", kind="alphanumeric", source="staff"
    )
    login(manager, PASSWORD)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/senders/")

    table = page.locator("#sender-table table")
    assert page.evaluate("document.documentElement.scrollWidth - innerWidth") <= 0
    assert table.evaluate("t => t.scrollWidth - t.parentElement.clientWidth") <= 0
    expect(table.locator("thead")).to_be_hidden()
    row = page.locator("#sender-table tbody tr", has_text="SHOP-OFFERS")
    assert row.evaluate("r => getComputedStyle(r).display") == "flex"
    for action in ("Make default", "Edit", "Retire"):
        button = row.get_by_role("button", name=action).or_(row.get_by_role("link", name=action))
        button.scroll_into_view_if_needed()
        expect(button).to_be_in_viewport(ratio=1)
    expect(row.locator('td[data-label="Status"]')).to_contain_text("active")

    row.get_by_role("link", name="Retire").click()
    expect(page.locator("h1")).to_contain_text("Retire")
