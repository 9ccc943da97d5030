"""Send from a file in Chromium: switching the account swaps the sender help under the sender
select, as on Compose, with no console error (the sender options' answer swaps #sender-help out
of band, and htmx logs one when the page has no such element); "Use standard characters"
replaces the look-alikes of the text every recipient gets, and the preview follows."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD
from tests.support.portal_data import populate

pytestmark = pytest.mark.django_db(transaction=True)

MERGE = (
    "phone,name,amount\n"
    "+96597119440,أحمد,12.5\n"
    "+96597119441,Sara “S”,7\n"
    "96597119442,Bob,\n"
    "notanumber,X,1\n"
)


@pytest.fixture
def merge_page(page, live_server, login, operator, sandbox_account, tmp_path):
    """The merge page of the tester's file, as an Operator, its console errors collected."""
    populate(sandbox_account, operator)
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    path = tmp_path / "merge.csv"
    path.write_text(MERGE, encoding="utf-8")
    login(operator, PASSWORD)
    page.goto(f"{live_server.url}/messages/compose/file/")
    page.get_by_label("File").set_input_files(str(path))
    page.get_by_role("button", name="Upload and continue").click()
    expect(page.locator("#merge-form")).to_be_visible()
    page.errors = errors
    return page


def test_switching_the_account_swaps_the_sender_help_with_no_console_error(merge_page):
    page = merge_page
    senders, help_line = page.get_by_label("Sender ID"), page.locator("#sender-help")
    page.get_by_label("Account").select_option(label="KwtSMS (sandbox)")
    expect(senders).to_contain_text("SMS-PORTAL")  # KwtSMS's sender ID
    page.wait_for_load_state("networkidle")
    assert page.errors == []

    page.get_by_label("Account").select_option(label="ISMS (sandbox)")
    expect(senders).not_to_contain_text("SMS-PORTAL")  # the options swapped in
    page.wait_for_load_state("networkidle")
    assert page.errors == []
    expect(help_line).to_have_text(
        "ISMS (sandbox) has no active sender IDs: the provider's default sender is used."
    )

    page.get_by_label("Account").select_option(label="KwtSMS (sandbox)")
    expect(senders).to_contain_text("SMS-PORTAL")
    expect(help_line).to_have_text("")


def test_use_standard_characters_replaces_the_curly_quotes_of_the_text(merge_page):
    page = merge_page
    text = page.get_by_label("Message")
    text.fill("Hi {name|friend}, you owe {amount|0} KWD “now”.")
    expect(page.locator("#preview-unicode")).to_contain_text("in the text itself")
    expect(page.locator("#preview-non-gsm")).to_contain_text("“")

    page.locator("#use-gsm").click()

    expect(text).to_have_value('Hi {name|friend}, you owe {amount|0} KWD "now".')
    expect(page.locator("#preview-non-gsm")).to_have_count(0)  # the preview followed
    # Now the recipients whose own details need Unicode are named, with their characters.
    expect(page.locator("#preview-unicode")).to_contain_text("in their own details")
    expect(page.locator("#preview-unicode li")).to_have_count(2)
    assert page.errors == []
