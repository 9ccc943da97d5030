"""The portal in Arabic, in Chromium: an Arabic browser gets an Arabic, right-to-left log-in
page; after logging in the dashboard and a report read right to left with Bootstrap's RTL
stylesheet; an English name inside an Arabic sentence keeps its place; the user menu's switcher
turns the pages back to English."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from smsportal.core.models import Preference
from tests.factories import PASSWORD
from tests.support.portal_data import populate

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def browser_context_args(browser_context_args):
    return {
        **browser_context_args,
        "locale": "ar-KW",  # Chromium's Accept-Language: ar-KW,ar
        "viewport": {"width": 1366, "height": 768},
    }


def _no_console_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def test_an_arabic_manager_logs_in_and_reads_the_dashboard_and_a_report_right_to_left(
    page, live_server, manager, sandbox_account
):
    populate(sandbox_account, manager)
    errors = _no_console_errors(page)

    page.goto(f"{live_server.url}/auth/login/")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    page.get_by_label("اسم المستخدم").fill(manager.username)
    page.get_by_label("كلمة المرور").fill(PASSWORD)
    page.get_by_role("button", name="تسجيل الدخول").click()

    expect(page.get_by_role("heading", name="لوحة المعلومات")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    stylesheet = page.locator("link[rel=stylesheet]").first.get_attribute("href")
    assert "bootstrap.rtl" in stylesheet
    # Right to left for real: the brand sits at the right of the bar, the user menu at its left.
    brand = page.locator(".navbar-brand").bounding_box()
    menu = page.locator("#user-menu").bounding_box()
    assert brand["x"] > 1366 / 2 > menu["x"], (brand, menu)
    # A figures table's numbers line up at the left edge of their cells (text-align: end).
    align = page.locator("#account-figures td.num").first.evaluate(
        "e => getComputedStyle(e).textAlign"
    )
    assert align in ("end", "left")

    page.get_by_role("link", name="التقارير").click()
    expect(page.get_by_role("heading", name="التقارير")).to_be_visible()
    expect(page.locator("#chart-days")).to_be_visible()
    # The chart drew (Chart.js sets the canvas' size) with Arabic status names in its legend.
    page.wait_for_function("() => window.Chart && Chart.getChart('chart-days')")
    legend = page.evaluate("() => Chart.getChart('chart-days').data.datasets.map(d => d.label)")
    assert legend and all(not label.isascii() for label in legend), legend
    assert page.evaluate("() => Chart.getChart('chart-days').options.scales.x.reverse") is True
    assert errors == []


def test_an_english_sender_id_inside_an_arabic_sentence_keeps_its_place(
    page, live_server, login, manager, sandbox_account
):
    populate(sandbox_account, manager)
    Preference.objects.create(user=manager, language="ar")
    page.goto(f"{live_server.url}/auth/login/")
    page.get_by_label("اسم المستخدم").fill(manager.username)
    page.get_by_label("كلمة المرور").fill(PASSWORD)
    page.get_by_role("button", name="تسجيل الدخول").click()
    page.goto(f"{live_server.url}/senders/")
    page.get_by_role("link", name="تعديل").first.click()

    heading = page.locator("h1")
    expect(heading).to_contain_text("تعديل اسم المرسل")
    sender = heading.locator("bdi")
    expect(sender).to_have_text("SMS-PORTAL")
    # In a right-to-left line the Arabic words come first, at the right; the isolated Latin
    # sender ID follows to their left, its letters still left to right ("SMS-" before "PORTAL").
    words = heading.evaluate(
        """h => {
          const range = document.createRange();
          range.selectNodeContents(h.firstChild);
          return range.getBoundingClientRect().left;
        }"""
    )
    assert sender.bounding_box()["x"] < words
    assert sender.evaluate("b => getComputedStyle(b).direction") == "ltr"


def test_the_user_menu_switches_to_english_and_back(page, live_server, login, operator):
    Preference.objects.create(user=operator, language="ar")
    page.goto(f"{live_server.url}/auth/login/")
    page.get_by_label("اسم المستخدم").fill(operator.username)
    page.get_by_label("كلمة المرور").fill(PASSWORD)
    page.get_by_role("button", name="تسجيل الدخول").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")

    page.locator("#user-menu").click()
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("dir", "ltr")

    page.locator("#user-menu").click()
    page.get_by_role("button", name="العربية").click()
    expect(page.get_by_role("heading", name="لوحة المعلومات")).to_be_visible()
