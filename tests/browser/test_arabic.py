"""The portal in Arabic, in Chromium: an Arabic browser gets an Arabic, right-to-left log-in
page; after logging in the dashboard and a report read right to left with Bootstrap's RTL
stylesheet; an Arabic message to a list is previewed (Unicode, its parts counted, its letters
joined), sent and read on its page; an English name inside an Arabic sentence keeps its place;
a stored language the portal does not know gives English; the user menu's switcher turns the
pages back to English."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from smsportal.core.models import Preference
from smsportal.messaging.models import Message
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
    # Time runs from right to left: the newest day stands left of the oldest.
    newest_left = page.evaluate(
        """() => {
          const chart = Chart.getChart('chart-days');
          const days = chart.data.labels, sorted = [...days].sort();
          const x = day => chart.scales.x.getPixelForValue(days.indexOf(day));
          return x(sorted.at(-1)) < x(sorted[0]);
        }"""
    )
    assert newest_left is True
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


def _log_in_in_arabic(page, live_server, user) -> None:
    page.goto(f"{live_server.url}/auth/login/")
    page.get_by_label("اسم المستخدم").fill(user.username)
    page.get_by_label("كلمة المرور").fill(PASSWORD)
    page.get_by_role("button", name="تسجيل الدخول").click()
    expect(page.get_by_role("heading", name="لوحة المعلومات")).to_be_visible()


# 70 Arabic letters and spaces fit one Unicode SMS; this one has 85, so two parts of at most 67.
ARABIC_TEXT = (
    "مرحبا بكم في خدمة الرسائل القصيرة، نتمنى لكم يوما سعيدا مع أطيب التحيات من فريق الدعم"
)


def test_an_arabic_operator_sends_an_arabic_message_to_a_list_and_reads_it(
    page, live_server, operator, sandbox_account
):
    populate(sandbox_account, operator)
    Preference.objects.create(user=operator, language="ar")
    errors = _no_console_errors(page)
    _log_in_in_arabic(page, live_server, operator)

    page.goto(f"{live_server.url}/messages/compose/")
    expect(page.get_by_role("heading", name="رسالة جديدة")).to_be_visible()
    page.get_by_label("الحساب", exact=True).select_option(label="KwtSMS (sandbox)")
    page.locator("#id_lists").select_option(label="Support team")
    page.get_by_label("الرسالة", exact=True).fill(ARABIC_TEXT)

    expect(page.locator("#preview-encoding")).to_have_text("يونيكود")
    expect(page.locator("#preview-segments")).to_have_text("2")
    expect(page.locator("#preview-characters")).to_have_text(str(len(ARABIC_TEXT)))
    expect(page.locator("#preview-recipients")).to_contain_text("3 أرقام للإرسال إليها")
    parts = page.locator("#preview-parts .preview-text")
    expect(parts).to_have_count(2)
    # Letters joined: each part is one run of text (no element splits a word), read right to
    # left, and the two parts together are the message.
    assert parts.evaluate_all("ps => ps.every(p => p.children.length === 0)")
    assert parts.first.evaluate("p => getComputedStyle(p).direction") == "rtl"
    assert "".join(parts.all_inner_texts()).replace(" ", "") == ARABIC_TEXT.replace(" ", "")
    # The costly characters are named once, as a script, in Arabic.
    expect(page.locator("#preview-non-gsm")).to_contain_text("حروف عربية")

    page.get_by_role("button", name="إرسال…").click()
    expect(page.locator("#confirm")).to_contain_text("3 مستلمين × 2 SMS")
    page.get_by_role("button", name="أكّد وأرسل").click()

    message = Message.objects.get(body=ARABIC_TEXT)
    expect(page).to_have_url(f"{live_server.url}/messages/{message.pk}/")
    expect(page.get_by_role("heading", name=f"الرسالة رقم {message.pk}")).to_be_visible()
    expect(page.locator("#messages .alert-success")).to_contain_text("لطابور الإرسال")
    body = page.locator("#message-body")
    expect(body).to_have_text(ARABIC_TEXT)
    assert body.evaluate("b => getComputedStyle(b).direction") == "rtl"
    expect(page.locator("#message-live dl")).to_contain_text("يونيكود، جزآن لكل مستلم")
    expect(page.locator("#deliveries tbody tr")).to_have_count(3)

    page.goto(f"{live_server.url}/reports/")
    expect(page.get_by_role("heading", name="التقارير")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    assert errors == []


def test_an_english_sender_id_in_an_arabic_text_keeps_its_order_in_preview_and_message(
    page, live_server, operator, sandbox_account
):
    populate(sandbox_account, operator)
    Preference.objects.create(user=operator, language="ar")
    _log_in_in_arabic(page, live_server, operator)
    text = "رسالة من SMS-PORTAL إليكم"

    page.goto(f"{live_server.url}/messages/compose/")
    page.get_by_label("الحساب", exact=True).select_option(label="KwtSMS (sandbox)")
    page.get_by_label("الأرقام").fill("+96597119440")
    page.get_by_label("الرسالة", exact=True).fill(text)
    part = page.locator("#preview-parts .preview-text").first
    expect(part).to_have_text(text)
    # The paragraph is right to left (its first strong letter is Arabic): "رسالة من" at the
    # right, then SMS-PORTAL with its letters left to right, then "إليكم" at the left.
    assert part.evaluate("p => getComputedStyle(p).direction") == "rtl"
    positions = part.evaluate(
        """p => {
          const text = p.firstChild, at = (word) => {
            const i = text.data.indexOf(word), r = document.createRange();
            r.setStart(text, i); r.setEnd(text, i + word.length);
            return r.getBoundingClientRect().left;
          };
          return [at("رسالة"), at("SMS"), at("PORTAL"), at("إليكم")];
        }"""
    )
    first, sms, portal, last = positions
    assert first > portal > sms > last, positions

    page.locator("#id_sender").select_option("SMS-PORTAL")
    page.get_by_role("button", name="إرسال…").click()
    page.get_by_role("button", name="أكّد وأرسل").click()
    message = Message.objects.get(body=text)
    expect(page).to_have_url(f"{live_server.url}/messages/{message.pk}/")
    body = page.locator("#message-body")
    expect(body).to_have_text(text)
    assert body.evaluate("b => getComputedStyle(b).direction") == "rtl"
    sender = page.locator("#message-sender")
    expect(sender).to_have_text("SMS-PORTAL")
    assert sender.evaluate("b => getComputedStyle(b).direction") == "ltr"


def test_a_user_whose_stored_language_is_unknown_gets_english(
    page, live_server, operator, sandbox_account
):
    Preference.objects.create(user=operator, language="xx-unknown")
    # The log-in page, before anyone is known, follows the browser (ar-KW).
    page.goto(f"{live_server.url}/auth/login/")
    page.get_by_label("اسم المستخدم").fill(operator.username)
    page.get_by_label("كلمة المرور").fill(PASSWORD)
    page.get_by_role("button", name="تسجيل الدخول").click()
    # Then the person's own stored choice wins, and a choice the portal does not know means
    # its default, English: not an error, nor the browser's language.
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    expect(page.locator("html")).to_have_attribute("lang", "en-gb")


def test_a_left_to_right_value_stays_beside_its_label_in_an_arabic_list(
    page, live_server, manager, sandbox_account
):
    """A value isolated left to right (an account's name, a username) in a list of terms: the
    browser's own indent of a <dd> is on its start side, the left for that value, which Bootstrap's
    right-to-left reset (margin-right: 0) missed; 40 px too wide, it fell below its label, and
    its words stood at the left of the column."""
    from smsportal.credits.models import CreditTransfer

    populate(sandbox_account, manager)
    Preference.objects.create(user=manager, language="ar")
    _log_in_in_arabic(page, live_server, manager)
    page.goto(f"{live_server.url}{CreditTransfer.objects.get().get_absolute_url()}")

    label = page.locator("#confirmation dt").first
    value = label.locator("xpath=following-sibling::dd[1]")
    expect(value).to_have_text("ISMS (sandbox)")
    assert value.evaluate("d => getComputedStyle(d).direction") == "ltr"
    assert abs(value.bounding_box()["y"] - label.bounding_box()["y"]) < 2
    # Its words at the right like the values below it (the customer's name).
    inked = """d => { const r = document.createRange(); r.selectNodeContents(d);
                       return r.getBoundingClientRect().right; }"""
    below = page.locator("#confirmation dd").nth(1)
    assert abs(value.evaluate(inked) - below.evaluate(inked)) < 2
