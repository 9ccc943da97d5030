"""Per provider, in the browser: a Manager creates the account from the account form only (no
shell, no admin), presses Test connection, sends every kind of message the account supports, and
sees each outcome."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from smsportal.messaging import message_types
from smsportal.providers.registry import backend_class
from smsportal.providers.sandbox.world import demo_password
from tests.factories import PASSWORD
from tests.support.sandbox import PATHS

pytestmark = pytest.mark.django_db(transaction=True)

OPTIONS = {  # one option of each kind set on the form, as staff would
    "kwtsms": lambda page: page.locator("#id_kwtsms__arabic_lang").select_option("2"),
    "kalasms": lambda page: page.locator("#id_kalasms__use_rssendsms").check(),
    "isms": lambda page: page.locator("#id_isms__use_unicode_page").check(),
    "smscentre": lambda page: page.locator("#id_smscentre__system_type").fill("ISO"),
    "intellisoftware": lambda page: None,
}
HEX = "06050415810000 48656C6C6F"
EXPECTED = {  # what each kind shows on the message page
    message_types.NO_REPORT: "not confirmed by the provider",
}


def address(sandbox, kind: str) -> str:
    if kind == "smscentre":
        return f"smpp://{sandbox.host}:{sandbox.smpp.port}"
    return sandbox.url + PATHS[kind]


@pytest.mark.parametrize("kind", ["kwtsms", "kalasms", "isms", "intellisoftware", "smscentre"])
def test_a_manager_sets_up_an_account_tests_it_and_sends_every_kind(
    page, live_server, login, manager, sandbox, kind
):
    login(manager, PASSWORD)
    page.goto(f"{live_server.url}/accounts/new/")
    page.locator("#id_name").fill(f"Our {kind}")
    page.locator("#id_kind").select_option(kind)
    expect(page.locator(f"#options-{kind}")).to_be_visible()
    expect(page.locator("#id_base_url")).to_have_attribute(
        "placeholder", backend_class(kind).default_base_url
    )
    for other in OPTIONS:
        if other != kind:
            expect(page.locator(f"#options-{other}")).to_be_hidden()
    page.locator("#id_base_url").fill(address(sandbox, kind))
    page.locator("#id_username").fill(f"demo-{kind}")
    page.locator("#id_password").fill(demo_password(kind))
    OPTIONS[kind](page)
    page.get_by_role("button", name="Save").click()
    expect(page.locator("h1")).to_contain_text(f"Our {kind}")

    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#connection-result")).to_contain_text("Connection works.")
    expect(page.get_by_role("button", name="Test connection")).to_be_enabled()

    account_url = page.url
    account_id = re.search(r"/accounts/(\d+)/", account_url)[1]
    kinds = message_types.available(backend_class(kind).capabilities)
    for number, chosen in enumerate(kinds, start=1):
        page.goto(f"{live_server.url}/messages/compose/?account={account_id}")
        page.get_by_label("Numbers").fill("+96550000001\n+96550000002")
        page.locator(f"label[for=kind-{chosen}]").click()
        if chosen == message_types.BINARY:
            page.get_by_label("Message").fill(HEX)
            page.locator("#id_binary_udh").check()
            expect(page.locator("#preview-binary")).to_contain_text("12 of 140 octets")
        else:
            page.get_by_label("Message").fill(f"Message {number} ({chosen}) %barcode%")
        if chosen == message_types.BARCODE:
            page.locator("#id_barcode_format").select_option("MMS")
            expect(page.locator("#preview-barcode")).to_contain_text("MMS")
        page.get_by_role("button", name="Send…").click()
        page.get_by_role("button", name="Confirm and send").click()
        expect(page).to_have_url(re.compile(r"/messages/\d+/$"))
        outcome = page.locator("#deliveries")
        expect(outcome).to_contain_text(EXPECTED.get(chosen, "submitted"))
        expect(outcome).not_to_contain_text("failed")
        expect(outcome).not_to_contain_text("unknown")
    received = sandbox.world.received
    assert len(received) == 2 * len(kinds)
