"""Routing in the browser, as a Manager: two accounts get prices by destination (one typed in the
page, one from a file) and a route each; Compose with "Automatic" to Kuwaiti, Saudi and British
numbers shows the split and the costs before sending, and the send goes through both accounts."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from smsportal.messaging.models import Message
from tests.factories import PASSWORD, BalanceSnapshotFactory
from tests.support.portal_data import demo_accounts

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_manager_prices_routes_and_sends_automatically_to_mixed_destinations(
    page, live_server, login, manager, sandbox_account, tmp_path
):
    accounts = demo_accounts(sandbox_account)
    kwt, isms = accounts["kwtsms"], accounts["isms"]
    for account in accounts.values():
        BalanceSnapshotFactory(account=account, amount=Decimal("12345.5"))
    login(manager, PASSWORD)

    # Prices: KwtSMS by hand (a country and a longer, overlapping prefix), ISMS from a file.
    page.goto(f"{live_server.url}/routing/prices/{kwt.pk}/")
    page.get_by_label("Destination").fill("KW")
    page.get_by_label("Price per part").fill("0.02")
    page.get_by_role("button", name="Save price").click()
    page.get_by_label("Destination").fill("+965 97")
    page.get_by_label("Price per part").fill("0.03")
    page.get_by_role("button", name="Save price").click()
    expect(page.locator("#price-table")).to_contain_text(
        "Numbers starting +96597 use this price, not that of +965"
    )
    prices = tmp_path / "isms.csv"
    prices.write_text("destination,price\nSA,0.04\nAE,0.05\n")
    page.goto(f"{live_server.url}/routing/prices/{isms.pk}/")
    page.get_by_label("Price file (CSV)").set_input_files(str(prices))
    page.get_by_role("button", name="Import").click()
    expect(page.locator(".alert-success, .alert")).to_contain_text(["2 prices imported"])

    # Routes: Kuwait through KwtSMS, Saudi Arabia through ISMS.
    for name, destinations, account in [("Kuwait", "KW", kwt), ("Saudi", "SA", isms)]:
        page.goto(f"{live_server.url}/routing/")
        page.get_by_role("link", name="Add route").click()
        page.wait_for_load_state()  # htmx listens from the load on: a change before it is lost
        page.get_by_label("Name").fill(name)
        page.get_by_label("Destinations").fill(destinations)
        page.get_by_label("Account 1").select_option(label=account.name)
        page.get_by_role("button", name="Save route").click()
    expect(page.locator("#route-table")).to_contain_text("Saudi")

    # The dry-run answers for one number, and why.
    page.get_by_label("Number").fill("+965 9711 9440")
    page.get_by_label("Text").fill("Hello")
    page.get_by_role("button", name="Check").click()
    expect(page.locator("#dry-run-answer")).to_contain_text(kwt.name)

    # Compose, Automatic, to mixed destinations: the split and the costs before sending.
    page.goto(f"{live_server.url}/messages/compose/")
    page.get_by_label("Account").select_option(label="Automatic (by the routes)")
    page.get_by_label("Numbers").fill(
        "+965 5000 0001\n+965 9711 9440\n+966 50 000 0001\n+44 7911 123456"
    )
    page.get_by_label("Message").fill("Hello from the routes")
    split = page.locator("#routing-split")
    expect(split.locator(f'tr[data-account="{kwt.name}"]')).to_contain_text("0.05")
    expect(split.locator(f'tr[data-account="{isms.name}"]')).to_contain_text("0.04")
    expect(page.locator("#routing-refused")).to_contain_text("1 recipient has no route")
    expect(page.locator("#preview-cost")).to_contain_text("0.09")

    page.get_by_role("button", name="Send…").click()
    expect(page.locator("#confirm-routed")).to_contain_text(kwt.name)
    page.get_by_role("button", name="Confirm and send").click()
    # Two messages, one per account: the list shows just the two this send made.
    expect(page).to_have_url(re.compile(r"/messages/\?ids=\d+%2C\d+$"))
    assert sorted(m.account.name for m in Message.objects.all()) == sorted([kwt.name, isms.name])
    expect(page.locator("table tbody tr")).to_have_count(2)
