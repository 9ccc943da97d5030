from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_upload_with_bad_rows_shows_the_summary_and_each_rejected_row(
    page, live_server, login, operator, tmp_path
):
    path = tmp_path / "people.csv"
    path.write_text(
        "Name;Mobile;Team\nAli;+965 9711 9440;Blue\nShort;12;\n"
        "Sara;0096597119441;Red\nAli again;96597119440;\n",
        encoding="utf-8",
    )
    login(operator, PASSWORD)
    page.goto(f"{live_server.url}/contacts/")
    page.get_by_role("link", name="Import").click()
    page.get_by_label("File").set_input_files(str(path))
    page.get_by_label("…or a new list named").fill("Imported")
    page.get_by_role("button", name="Upload and preview").click()

    expect(page.locator("#preview-described")).to_contain_text("CSV, UTF-8, semicolon-separated")
    expect(page.locator("#preview-rows tbody tr")).to_have_count(4)
    page.get_by_role("button", name="Import as UTF-8").click()

    expect(page.locator("#import-status")).to_have_text("done", timeout=10_000)
    expect(page.locator("[data-count=created]")).to_have_text("2")
    expect(page.locator("[data-count=rejected]")).to_have_text("2")
    rows = page.locator("#rejections tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("invalid phone number “12”: too short")
    expect(rows.nth(1)).to_contain_text("duplicate of line 2")
    expect(page.get_by_role("link", name="Download all as CSV")).to_be_visible()

    page.get_by_role("link", name="Imported").click()
    expect(page.locator("#list-size")).to_have_text("2 members")
