from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_manager_logs_in_sees_the_dashboard_and_logs_out(page, live_server, login, manager):
    login(manager, PASSWORD)

    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.locator("#welcome")).to_contain_text("Add a provider account")

    page.locator("#user-menu").click()
    page.get_by_role("button", name="Log out").click()

    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    page.goto(f"{live_server.url}/")
    assert "/auth/login/" in page.url


def test_a_wrong_password_is_refused_with_a_message(page, live_server, login, manager):
    login(manager, "not the password")

    expect(page.locator(".alert-danger")).to_contain_text("correct username and password")
