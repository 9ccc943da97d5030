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
