from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from smsportal.credits.models import CreditTransfer, TransferOutcome
from tests.credits.fakes import install
from tests.factories import PASSWORD, BalanceSnapshotFactory, ProviderAccountFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def provider(monkeypatch):
    # The live server runs in a thread of this process, so the patch reaches its requests.
    return install(monkeypatch)


def test_a_manager_transfers_credits_end_to_end(page, live_server, login, manager, provider):
    account = ProviderAccountFactory(kind="isms", name="ISMS main")
    BalanceSnapshotFactory(account=account, amount=Decimal("500"))
    provider.balance = Decimal("480")
    login(manager, PASSWORD)

    page.goto(f"{live_server.url}/credits/")
    page.get_by_role("link", name="Transfer credits").click()
    page.wait_for_load_state()  # htmx listens from the load on: a change before it is lost
    page.get_by_label("From account").select_option(label="ISMS main")
    page.get_by_label("Customer username").fill("reseller42")
    page.get_by_label("Credits").fill("80")
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="Confirm the transfer")).to_be_visible()
    expect(page.locator("#balance-before")).to_contain_text("480.00")
    expect(page.locator("#balance-after")).to_contain_text("400.00")
    assert provider.transfers == []

    page.get_by_role("button", name="Transfer 80.00 credits").click()

    expect(page.locator("#messages")).to_contain_text("80.00 credits transferred to reseller42")
    expect(page.locator(".outcome")).to_have_text("done")
    transfer = CreditTransfer.objects.get()
    assert transfer.outcome == TransferOutcome.DONE
    assert provider.transfers == [("reseller42", Decimal("80"), transfer.reference)]

    page.go_back()  # the confirmation page again, as a second tab would show it
    page.reload()
    expect(page.locator(".outcome")).to_have_text("done")
    assert len(provider.transfers) == 1
