from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_preview_follows_the_text_as_it_is_typed(page, live_server, login, operator, account):
    login(operator, PASSWORD)
    page.goto(f"{live_server.url}/messages/compose/")
    marker = page.evaluate("() => (window.__sameDocument = Math.random())")

    page.get_by_label("Message").fill("a" * 100)
    expect(page.locator("#preview-encoding")).to_have_text("Standard")
    expect(page.locator("#preview-segments")).to_have_text("1")

    page.get_by_label("Message").press_sequentially(" 😀")
    expect(page.locator("#preview-encoding")).to_have_text("Unicode")
    expect(page.locator("#preview-segments")).to_have_text("2")
    assert page.evaluate("() => window.__sameDocument") == marker  # no reload happened


def test_use_gsm_characters_replaces_the_curly_quotes(page, live_server, login, operator, account):
    login(operator, PASSWORD)
    page.goto(f"{live_server.url}/messages/compose/")

    page.get_by_label("Message").fill("“Quote” " * 10)
    expect(page.locator("#preview-encoding")).to_have_text("Unicode")
    page.locator("#use-gsm").click()

    expect(page.locator("#preview-encoding")).to_have_text("Standard")
    expect(page.get_by_label("Message")).to_have_value('"Quote" ' * 10)
