"""Routing on a phone (390 px) and on a laptop (1366 px), as every role: the rules, the accounts
and the prices read as one block per row on the phone, nothing wider than the screen; the dry-run
answer fits. Compose with "Automatic" names the numbers no route carries, and the summary by the
Send button counts only what will be sent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from smsportal.routing.models import DestinationPrice, Route, RouteAccount
from tests.factories import PASSWORD, BalanceSnapshotFactory, UserFactory
from tests.support.portal_data import demo_accounts

pytestmark = pytest.mark.django_db(transaction=True)

OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
# How far a table reaches past its box (a table-responsive scrolls it sideways, out of sight).
TABLE_OVERFLOW = "t => t.scrollWidth - t.parentElement.clientWidth"
PHONE, LAPTOP = {"width": 390, "height": 844}, {"width": 1366, "height": 768}


@pytest.fixture
def superuser(db):
    return UserFactory(username="admin", is_superuser=True, is_staff=True)


@pytest.fixture
def routed(sandbox_account):
    """Three routes over the demo accounts (one with many destinations, one inactive, one
    "cheapest"), and an account's prices with overlapping prefixes."""
    accounts = demo_accounts(sandbox_account)
    kwt, isms, kala = accounts["kwtsms"], accounts["isms"], accounts["kalasms"]
    for account in accounts.values():
        BalanceSnapshotFactory(account=account, amount=Decimal("12345.5"))
    DestinationPrice.objects.create(account=kwt, prefix="965", country="KW", price_per_part=1)
    DestinationPrice.objects.create(account=kwt, prefix="96597", price_per_part=Decimal("0.03"))
    for n, (name, where, targets, fields) in enumerate(
        [
            ("Kuwait mobiles", "KW", [kwt, kala], {}),
            ("Gulf", "SA, AE, BH, QA, OM, +96897, +97150, +97155", [isms, kwt, kala], {}),
            ("Cheapest for Egypt", "EG", [kala, isms], {"strategy": "cheapest"}),
            ("Old route", "JO", [kala], {"is_active": False, "sender": "OLDSENDER"}),
        ]
    ):
        route = Route.objects.create(name=name, destinations=where, position=n + 1, **fields)
        for position, target in enumerate(targets):
            RouteAccount.objects.create(route=route, account=target, position=position)
    return kwt


def fits(page) -> None:
    assert page.evaluate(OVERFLOW) <= 0, "the page is wider than the screen"


@pytest.mark.parametrize("role", ["operator", "manager", "superuser"])
def test_the_routing_pages_read_as_blocks_on_a_phone_and_as_tables_on_a_laptop(
    request, page, live_server, login, routed, role
):
    login(request.getfixturevalue(role), PASSWORD)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/routing/")
    for table in ("#route-table", "#account-routing"):
        rows = page.locator(f"{table} tbody tr")
        expect(rows.first).to_be_visible()
        expect(page.locator(f"{table} thead")).to_be_hidden()
        assert rows.first.evaluate("r => getComputedStyle(r).display") == "flex"
        assert page.locator(table).evaluate(TABLE_OVERFLOW) <= 0, table
    gulf = page.locator("#route-table tbody tr").nth(1)
    expect(gulf.locator("td[data-label=Matches]")).to_contain_text("+97155")
    assert gulf.locator("td[data-label=Matches]").bounding_box()["width"] > 300  # across the row
    fits(page)

    page.goto(f"{live_server.url}/routing/dry-run/?phone=%2B96597119440&text=Hello")
    expect(page.locator("#dry-run-answer")).to_contain_text("KwtSMS")
    fits(page)

    page.goto(f"{live_server.url}/routing/prices/{routed.pk}/")
    rows = page.locator("#price-table tbody tr")
    expect(rows).to_have_count(2)
    assert rows.first.evaluate("r => getComputedStyle(r).display") == "flex"
    assert page.locator("#price-table").evaluate(TABLE_OVERFLOW) <= 0
    expect(rows.nth(1).locator("td[data-label=Overlaps]")).to_contain_text("the longest prefix")
    fits(page)

    page.set_viewport_size(LAPTOP)
    for path, table in [
        ("/routing/", "#route-table"),
        (f"/routing/prices/{routed.pk}/", "#price-table"),
    ]:
        page.goto(f"{live_server.url}{path}")
        expect(page.locator(f"{table} thead")).to_be_visible()
        row = page.locator(f"{table} tbody tr").first
        assert row.evaluate("r => getComputedStyle(r).display") == "table-row"
        fits(page)


@pytest.mark.parametrize("role", ["operator", "manager", "superuser"])
def test_compose_automatic_on_a_phone_names_the_refused_and_counts_only_what_is_sent(
    request, page, live_server, login, routed, role
):
    login(request.getfixturevalue(role), PASSWORD)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/messages/compose/")
    page.wait_for_load_state()
    page.get_by_label("Account").select_option(label="Automatic (by the routes)")
    page.wait_for_load_state()
    uk = [f"+44 7911 1234{n:02}" for n in range(7)]
    page.get_by_label("Numbers").fill("\n".join(["+965 9711 9440", "+966 50 000 0001", *uk]))
    page.get_by_label("Message").fill("Hello")
    refused = page.locator("#routing-refused")
    expect(refused).to_contain_text("7 recipients have no route")
    expect(refused.locator("code")).to_have_text([f"+4479111234{n:02}" for n in range(5)])
    expect(refused).to_contain_text("and 2 more")
    summary = page.locator("#send-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("2 numbers")
    expect(summary).to_contain_text("7 with no route left out")
    fits(page)
