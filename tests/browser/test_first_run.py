"""The README's first-run walk, in a browser: compose a first message, to a number and a list, on
an account that talks to the sandbox over real sockets, watch it arrive (the sandbox pushes its
delivery report to the portal's webhook), read an incoming SMS in the inbox, and see it all on
the dashboard."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from tests.factories import PASSWORD, ContactFactory, ContactListFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_new_user_sends_a_first_message_and_watches_it_arrive(
    page, live_server, login, manager, sandbox, sandbox_account
):
    account = sandbox_account("isms", name="ISMS (sandbox)")
    team = ContactListFactory(name="Support team")
    team.add([ContactFactory(phone=p).pk for p in ("+96597119441", "+96597119442")])
    isms = sandbox.world.account("isms", account.username)
    isms.callback_url = f"{live_server.url}/hooks/isms/{account.webhook_token}"

    login(manager, PASSWORD)
    page.get_by_role("link", name="Compose").first.click()
    page.wait_for_load_state()  # htmx listens from the load on: a change before it is lost
    page.get_by_label("Account").select_option(label="ISMS (sandbox)")
    page.get_by_label("Numbers").fill("+965 9711 9440")
    page.get_by_label("Lists").select_option(label="Support team")
    page.get_by_label("Message").fill("Hello from SMS Portal")
    expect(page.locator("#preview-segments")).to_have_text("1")
    page.get_by_role("button", name="Send…").click()
    page.get_by_role("button", name="Confirm and send").click()

    # The message page: the bar reaches delivered when the sandbox's report comes in.
    expect(page.locator("#message-status")).to_have_text("done", timeout=15_000)
    expect(page.locator("[data-count=delivered]")).to_have_text("3", timeout=15_000)
    assert sorted((r.recipient, r.text) for r in sandbox.world.received) == [
        (f"9659711944{i}", "Hello from SMS Portal") for i in range(3)
    ]

    # A reply arrives: the sandbox pushes it to the portal's incoming webhook.
    answer = requests.post(
        f"{sandbox.url}/_sandbox/incoming",
        json={"username": account.username, "sender": "96597119440", "text": "Thanks, got it"},
        timeout=5,
    )
    assert answer.status_code == 200
    page.locator("#mainnav").get_by_role("button", name="Inbox").click()  # the menu
    page.locator("#mainnav .dropdown-menu").get_by_role("link", name="Inbox").click()
    expect(page.get_by_text("Thanks, got it")).to_be_visible(timeout=10_000)

    page.get_by_role("link", name="Dashboard").first.click()
    expect(page.get_by_text("ISMS (sandbox)").first).to_be_visible()
