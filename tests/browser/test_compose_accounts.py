"""Compose sends through the account chosen, whichever it is, as a Manager (who has the balance
card's Refresh button: a form of its own, once nested in the compose form, whose hidden
`account` field then joined the compose form and won). Each send is checked at the sandbox: the
message must arrive at the chosen provider, under the chosen account's login, and nowhere else."""

from __future__ import annotations

import re
import time
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from smsportal.messaging.models import Message
from tests.factories import PASSWORD, BalanceSnapshotFactory
from tests.support.portal_data import demo_accounts

pytestmark = pytest.mark.django_db(transaction=True)

KINDS = ["kalasms", "kwtsms", "isms", "intellisoftware", "smscentre"]


def arrived(sandbox, timeout: float = 10.0) -> list[tuple[str, str, str, str]]:
    """What the sandbox received, once something has (SMPP answers on its own thread)."""
    deadline = time.monotonic() + timeout
    while not sandbox.world.received and time.monotonic() < deadline:
        time.sleep(0.05)
    return [(r.provider, r.username, r.recipient, r.text) for r in sandbox.world.received]


@pytest.fixture
def accounts(sandbox_account):
    accounts = demo_accounts(sandbox_account)
    for account in accounts.values():
        BalanceSnapshotFactory(account=account, amount=Decimal("12345.5"))
    return accounts


@pytest.mark.parametrize("kind", KINDS)
def test_a_manager_sends_through_the_account_chosen_in_compose(
    page, live_server, login, manager, sandbox, accounts, kind
):
    chosen = accounts[kind]
    # The page opens on another account (the balance card's account), as when a Manager
    # changes their mind: the send must still go through the one chosen last.
    other = next(a for k, a in accounts.items() if k != kind)
    login(manager, PASSWORD)
    page.goto(f"{live_server.url}/messages/compose/?account={other.pk}")
    expect(page.get_by_role("button", name=re.compile(r"\bRefresh\b"))).to_be_visible()

    page.get_by_label("Account").select_option(label=chosen.name)
    page.get_by_label("Numbers").fill("+965 9711 9440")
    page.get_by_label("Message").fill(f"Hello through {chosen.name}")
    page.get_by_role("button", name="Send…").click()
    expect(page.locator("#confirm")).to_contain_text(f"through {chosen.name}")
    page.get_by_role("button", name="Confirm and send").click()

    expect(page).to_have_url(re.compile(r"/messages/\d+/$"))
    assert Message.objects.get().account == chosen
    assert arrived(sandbox) == [
        (kind, chosen.username, "96597119440", f"Hello through {chosen.name}")
    ]


def test_refresh_on_compose_refreshes_the_chosen_accounts_balance_in_place(
    page, live_server, login, manager, sandbox, accounts
):
    isms = accounts["isms"]
    sandbox.world.account("isms", isms.username).credit = Decimal("9876.5")
    login(manager, PASSWORD)
    page.goto(f"{live_server.url}/messages/compose/")
    page.get_by_label("Account").select_option(label=isms.name)
    expect(page.locator("#compose-balance")).to_contain_text(isms.name)  # the card follows
    page.get_by_label("Message").fill("Still here after the refresh")
    marker = page.evaluate("() => (window.__sameDocument = Math.random())")

    page.get_by_role("button", name=re.compile(r"\bRefresh\b")).click()

    card = page.locator("#compose-balance")
    expect(card.locator("#balances-refreshed")).to_have_text(
        re.compile(r"1 balance refreshed just now"),
        timeout=15_000,  # a busy provider
    )
    expect(card.locator(f"#balance-{isms.pk} .balance-amount")).to_have_text("9,876.50")
    assert page.evaluate("() => window.__sameDocument") == marker  # no page load
    expect(page.get_by_label("Message")).to_have_value("Still here after the refresh")
    expect(page.get_by_label("Account")).to_have_value(str(isms.pk))
    expect(page.locator("#messages .alert")).to_have_count(0)

    page.goto(f"{live_server.url}/")  # and nothing waits to be shown on the next page
    expect(page.locator("#messages .alert")).to_have_count(0)


@pytest.mark.parametrize("path", ["/", "/credits/"])
def test_refresh_on_the_dashboard_and_credits_page_answers_in_place(
    page, live_server, login, manager, sandbox, accounts, path
):
    sandbox.world.account("kwtsms", accounts["kwtsms"].username).credit = Decimal("4321")
    login(manager, PASSWORD)
    page.goto(f"{live_server.url}{path}")
    marker = page.evaluate("() => (window.__sameDocument = Math.random())")

    page.locator("#balances").get_by_role("button", name=re.compile(r"\bRefresh\b")).click()

    expect(page.locator("#balances-refreshed")).to_be_visible()
    expect(page.locator(f"#balance-{accounts['kwtsms'].pk} .balance-amount")).to_have_text(
        "4,321.00"
    )
    assert page.evaluate("() => window.__sameDocument") == marker
    page.goto(f"{live_server.url}/messages/")
    expect(page.locator("#messages .alert")).to_have_count(0)
