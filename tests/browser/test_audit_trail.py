"""The audit page in the browser: the day's actions, a filter, the export — as Manager and
superuser; an Operator has no such page."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from smsportal.core import audit
from smsportal.core.roles import MANAGER, OPERATOR
from tests.factories import PASSWORD, ProviderAccountFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def make_user(role: str):
    if role == "superuser":
        return UserFactory(username="root", is_superuser=True, is_staff=True)
    user = UserFactory(username=role.lower())
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.mark.parametrize("role", [MANAGER, "superuser"])
def test_the_audit_page_shows_the_days_actions_and_exports_them(page, live_server, login, role):
    user = make_user(role)
    audit.record("token_rotated", ProviderAccountFactory(name="Main account"), actor=user)
    login(user, PASSWORD)
    page.locator("#mainnav").get_by_role("button", name="Accounts").click()  # the menu
    page.get_by_role("link", name="Audit").click()

    rows = page.locator("#audit-entries tbody tr")
    expect(rows.filter(has_text="Logged in")).to_have_count(1)
    expect(rows.filter(has_text="Rotated a callback token")).to_contain_text("Main account")

    page.get_by_label("Action").select_option(label="Logged in")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(user.username)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    download = download_info.value
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    assert download.suggested_filename.startswith("audit-trail-")
    assert text.splitlines()[0].startswith("time,user,address,action")
    assert "Logged in" in text and "Rotated a callback token" not in text  # the filter held


def test_an_operator_has_no_audit_page(page, live_server, login):
    login(make_user(OPERATOR), PASSWORD)

    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_role("link", name="Audit")).to_have_count(0)
    response = page.goto(f"{live_server.url}/audit/")
    assert response.status == 403


@pytest.mark.parametrize("role", [MANAGER, "superuser"])
def test_on_a_phone_each_entry_is_one_block_with_every_part_on_screen(
    page, live_server, login, role
):
    user = make_user(role)
    account = ProviderAccountFactory(name="Main account")
    audit.record("message_sent", account, actor=user, recipients=1204)
    page.set_viewport_size({"width": 390, "height": 900})
    login(user, PASSWORD)
    page.goto(f"{live_server.url}/audit/")

    entry = page.locator("#audit-entries tbody tr", has_text="Sent a message")
    for part in ("Sent a message", "Main account", "recipients: 1,204"):
        box = entry.get_by_text(part).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, (part, box)
    expect(page.locator("#audit-entries thead")).to_be_hidden()
    # A log-in changes nothing: its block leaves out the empty "Before → after".
    login_entry = page.locator("#audit-entries tbody tr", has_text="Logged in").first
    expect(login_entry.locator("td").nth(4)).to_be_hidden()
    expect(entry.locator("td").nth(4)).to_be_visible()
