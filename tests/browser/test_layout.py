"""The dashboard's figures fit a laptop's screen and stack on a phone's; every page has a favicon;
one navigation item is lit. Measured in Chromium, for each role."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from smsportal.recurring.models import RecurringSend
from tests.factories import PASSWORD, UserFactory
from tests.support.portal_data import populate

pytestmark = pytest.mark.django_db(transaction=True)

OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture
def superuser(db):
    return UserFactory(username="admin", is_superuser=True, is_staff=True)


@pytest.fixture
def as_role(request, page, live_server, login, sandbox_account):
    def _as(role: str):
        user = request.getfixturevalue(role)
        populate(sandbox_account, user)
        login(user, PASSWORD)
        return page

    return _as


@pytest.mark.parametrize("role", ["operator", "manager", "superuser"])
def test_the_dashboard_table_fits_at_1366_and_stacks_at_390(as_role, live_server, role):
    page = as_role(role)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{live_server.url}/")
    table = page.locator("#account-figures")
    expect(table).to_be_visible()
    assert table.evaluate("t => t.scrollWidth - t.parentElement.clientWidth") <= 0
    assert page.evaluate(OVERFLOW) <= 0
    assert table.locator("tbody tr").first.evaluate("r => getComputedStyle(r).display") == (
        "table-row"
    )

    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate(OVERFLOW) <= 0  # nothing wider than the phone
    row = table.locator("tbody tr").first
    assert row.evaluate("r => getComputedStyle(r).display") == "grid"
    expect(table.locator("thead")).to_be_hidden()
    expect(row.locator("td.stack-only").first).to_have_text("Today")
    expect(row.locator("td[data-label=delivered]").first).to_be_visible()


@pytest.mark.parametrize("width", [1200, 1366, 1440])
def test_the_navigation_is_one_line_on_a_laptop(as_role, live_server, width):
    page = as_role("manager")  # every link; a longer name in the user menu than "admin"
    page.set_viewport_size({"width": width, "height": 768})
    page.goto(f"{live_server.url}/")
    links = page.locator("#mainnav .nav-link")
    expect(links.first).to_be_visible()
    tops = {round(box["y"]) for box in (link.bounding_box() for link in links.all())}
    heights = {round(link.bounding_box()["height"]) for link in links.all()}
    assert len(tops) == 1 and max(heights) < 50, (tops, heights)  # one row, one line each
    assert page.evaluate(OVERFLOW) <= 0


@pytest.mark.parametrize("path", ["/", "/messages/compose/", "/credits/", "/admin/"])
def test_every_page_has_a_favicon_the_server_serves(as_role, live_server, path):
    page = as_role("superuser")
    page.goto(f"{live_server.url}{path}")
    href = page.locator("link[rel=icon]").get_attribute("href")
    answer = page.request.get(f"{live_server.url}{href}")
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("image/svg+xml")


@pytest.mark.parametrize(
    "path, lit",
    [
        ("/messages/compose/", "Compose"),
        ("/messages/", "Messages"),
        ("/messages/inbox/", "Inbox"),
        ("/contacts/lists/", "Lists"),
        ("/contacts/", "Contacts"),
        ("/", "Dashboard"),
    ],
)
def test_exactly_one_navigation_item_is_lit(as_role, live_server, path, lit):
    page = as_role("manager")
    page.goto(f"{live_server.url}{path}")
    expect(page.locator("#mainnav .nav-link.active")).to_have_count(1)
    expect(page.locator("#mainnav .nav-link.active")).to_contain_text(lit)


def test_the_messages_list_fits_at_1366_and_turns_rows_into_cards_at_390(as_role, live_server):
    page = as_role("manager")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{live_server.url}/messages/")
    table = page.locator("#message-table")
    expect(table.locator("tbody tr")).to_have_count(2)
    row = table.locator("tbody tr").first
    assert row.evaluate("r => getComputedStyle(r).display") == "table-row"
    assert table.evaluate("t => t.scrollWidth - t.parentElement.clientWidth") <= 0

    page.set_viewport_size({"width": 390, "height": 844})
    # Neither the page nor the table beside its own box scrolls sideways on a phone.
    assert page.evaluate(OVERFLOW) <= 0
    assert table.evaluate("t => t.scrollWidth - t.parentElement.clientWidth") <= 0
    assert row.evaluate("r => getComputedStyle(r).display") == "flex"
    expect(table.locator("thead")).to_be_hidden()
    expect(row.locator("td[data-label=Progress] .progress-stacked")).to_be_visible()


@pytest.mark.parametrize("role", ["operator", "manager", "superuser"])
def test_a_messages_recipients_fit_at_1366_and_turn_into_cards_at_390(as_role, live_server, role):
    page = as_role(role)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{live_server.url}/messages/")
    page.locator("#message-table tbody tr a").first.click()
    table = page.locator("#delivery-table")
    row = table.locator("tbody tr").first
    expect(row).to_be_visible()
    assert row.evaluate("r => getComputedStyle(r).display") == "table-row"
    assert page.evaluate(OVERFLOW) <= 0

    page.set_viewport_size({"width": 390, "height": 844})
    # Neither the page nor the table inside its own box scrolls sideways on a phone.
    assert page.evaluate(OVERFLOW) <= 0
    assert table.evaluate("t => t.scrollWidth - t.parentElement.clientWidth") <= 0
    assert row.evaluate("r => getComputedStyle(r).display") == "flex"
    expect(table.locator("thead")).to_be_hidden()
    expect(row.locator("td[data-label=Parts]")).to_be_visible()


@pytest.mark.parametrize("role", ["operator", "manager"])
def test_a_long_unbroken_name_wraps_in_headings_and_the_breadcrumb(as_role, live_server, role):
    from smsportal.contacts.models import Contact

    page = as_role(role)
    contact = Contact.objects.get(name="Staff 0")
    Contact.objects.filter(pk=contact.pk).update(name="W" * 200)
    for width, height in [(1366, 768), (390, 844)]:
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/contacts/{contact.pk}/")
        expect(page.locator("h1")).to_contain_text("W" * 200)
        assert page.evaluate(OVERFLOW) <= 0, width
        page.goto(f"{live_server.url}/messages/inbox/")  # the name heads its conversation
        expect(page.get_by_text("W" * 200)).to_be_visible()
        assert page.evaluate(OVERFLOW) <= 0, width


@pytest.mark.parametrize("role", ["operator", "manager"])
def test_a_long_unbroken_message_text_wraps_on_the_dashboard(as_role, live_server, role):
    from smsportal.messaging.models import Message

    page = as_role(role)
    Message.objects.filter(body="Hello from SMS Portal").update(body="x" * 300)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/")
    expect(page.get_by_text("x" * 69, exact=False).first).to_be_visible()
    assert page.evaluate(OVERFLOW) <= 0


@pytest.mark.parametrize("role", ["operator", "manager", "superuser"])
def test_the_reports_and_keywords_tables_turn_into_cards_at_390(as_role, live_server, role):
    from smsportal.keywords.models import AutoReply, KeywordRule

    page = as_role(role)
    rule = KeywordRule.objects.get(keyword="JOIN")
    AutoReply.objects.create(
        account=rule.account,
        phone="+96597119440",
        kind=AutoReply.Kind.RULE,
        rule=rule,
        notes=[
            {"code": "replied"},
            {"code": "added_to", "list": "Support team, a list with a long name that wraps"},
        ],
    )
    for path, table_id in (("/reports/", "table-departments"), ("/keywords/", "auto-replies")):
        page.set_viewport_size({"width": 1366, "height": 768})
        page.goto(f"{live_server.url}{path}")
        row = page.locator(f"#{table_id} tbody tr").first
        expect(row).to_be_visible()
        assert row.evaluate("r => getComputedStyle(r).display") == "table-row"
        page.set_viewport_size({"width": 390, "height": 844})
        # Loaded afresh at the phone's width: the reports' charts redraw at their own pace.
        page.goto(f"{live_server.url}{path}")
        assert page.evaluate(OVERFLOW) <= 0, path
        table = page.locator(f"#{table_id}")
        assert table.evaluate("t => t.scrollWidth - t.parentElement.clientWidth") <= 0, path
        assert row.evaluate("r => getComputedStyle(r).display") == "flex", path
        expect(row.locator("td[data-label]").first).to_be_visible()


# Each element under `root` that reaches past the viewport's edges, described (none expected).
OUTSIDE_THE_SCREEN = """root => {
  const width = document.documentElement.clientWidth;
  return [...root.querySelectorAll('*')].filter(e => {
    const box = e.getBoundingClientRect();
    return box.width && (box.left < -0.5 || box.right > width + 0.5);
  }).map(e => `${e.tagName} “${e.textContent.trim().slice(0, 30)}”`);
}"""


@pytest.mark.parametrize("role", ["operator", "manager", "superuser"])
def test_the_keyword_rules_fit_at_1366_and_turn_into_cards_at_390(as_role, live_server, role):
    """A rule with a long keyword, reply and e-mail: at 390 px every cell, the Edit and Delete
    buttons too, is on the screen, nothing scrolls sideways (the table once did, in its own box,
    and cut the Delete button off)."""
    from smsportal.keywords.models import KeywordRule

    page = as_role(role)
    rule = KeywordRule.objects.get(keyword="JOIN")
    KeywordRule.objects.create(
        account=rule.account,
        keyword="SUBSCRIBE-TO-THE-NEWSLETTER",
        reply="Thank you for subscribing to our weekly newsletter; reply STOP to leave any time.",
        remove_from_list=rule.add_to_list,
        forward_to="someone.with.a.rather.long.address@example.com",
        is_active=False,
    )
    can_change = role != "operator"
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{live_server.url}/keywords/")
    table = page.locator("#rules")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(2)
    assert rows.first.evaluate("r => getComputedStyle(r).display") == "table-row"
    assert table.evaluate("t => t.scrollWidth - t.parentElement.clientWidth") <= 0
    expect(table.get_by_role("button", name="Delete")).to_have_count(2 if can_change else 0)

    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate(OVERFLOW) <= 0
    assert table.evaluate("t => t.scrollWidth - t.parentElement.clientWidth") <= 0
    expect(table.locator("thead")).to_be_hidden()
    for row in rows.all():
        assert row.evaluate("r => getComputedStyle(r).display") == "flex"
        assert row.evaluate(OUTSIDE_THE_SCREEN) == []
        expect(row.locator("td[data-label=Reply]")).to_be_visible()
        if can_change:
            for button in (row.get_by_role("link", name="Edit"), row.get_by_role("button")):
                button.scroll_into_view_if_needed()
                expect(button).to_be_in_viewport(ratio=1)  # not cut off by the table's box


@pytest.mark.parametrize("role", ["operator", "manager"])
def test_a_mail_merge_with_long_headings_and_values_fits_at_390(
    as_role, live_server, role, tmp_path
):
    """A heading or a number cell with no space in it wraps: the placeholders under the text and
    the refused rows' table stay within the phone's screen (the table once scrolled in its own
    box, its Reason cut off)."""
    heading = "Averyveryverylongcolumnheadingwithoutanyspacesatall"
    path = tmp_path / "orders.csv"
    path.write_text(
        f"Customer,Phone,{heading}\n"
        "Sara,+96597119460,x\n"
        "Omar,callmeonmyofficelineextension4711pleasethanks,y\n",
        encoding="utf-8",
    )
    page = as_role(role)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/messages/compose/file/")
    page.get_by_label("File").set_input_files(str(path))
    page.get_by_role("button", name="Upload and continue").click()
    page.get_by_label("Message").fill("Dear {customer}")
    refused = page.locator("#merge-refused")
    expect(refused).to_contain_text("invalid number")
    expect(page.locator("#merge-columns")).to_contain_text(heading.casefold())
    assert page.evaluate(OVERFLOW) <= 0
    assert refused.evaluate("t => t.scrollWidth - t.parentElement.clientWidth") <= 0
    assert page.locator("#merge-columns").evaluate(OUTSIDE_THE_SCREEN) == []
    assert refused.evaluate(OUTSIDE_THE_SCREEN) == []


@pytest.mark.parametrize("role", ["operator", "manager"])
def test_a_recurring_sends_history_turns_into_cards_at_390(as_role, live_server, role):
    """At 390 px each past send is a card with its outcome and message under their labels (the
    history table cut its Message column off)."""
    page = as_role(role)
    schedule = RecurringSend.objects.get()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}{schedule.get_absolute_url()}")
    table = page.locator("#history")
    row = table.locator("tbody tr").first
    assert page.evaluate(OVERFLOW) <= 0
    assert table.evaluate("t => t.scrollWidth - t.parentElement.clientWidth") <= 0
    assert row.evaluate("r => getComputedStyle(r).display") == "flex"
    assert row.evaluate(OUTSIDE_THE_SCREEN) == []
    expect(row.locator('td[data-label="Message"]')).to_contain_text("#")
    row.scroll_into_view_if_needed()
    expect(row.locator('td[data-label="Message"]')).to_be_in_viewport(ratio=1)


@pytest.mark.parametrize("role", ["operator", "manager"])
def test_the_recurring_sends_fit_at_1366_and_turn_into_cards_at_390(as_role, live_server, role):
    """At 390 px each schedule is a card with every column under its label, the Next one
    included (the table scrolled sideways in its box, and cut Next off)."""
    page = as_role(role)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{live_server.url}/recurring/")
    table = page.locator("#schedule-table")
    row = table.locator("tbody tr").first
    assert row.evaluate("r => getComputedStyle(r).display") == "table-row"
    assert table.evaluate("t => t.scrollWidth - t.parentElement.clientWidth") <= 0

    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate(OVERFLOW) <= 0
    assert table.evaluate("t => t.scrollWidth - t.parentElement.clientWidth") <= 0
    expect(table.locator("thead")).to_be_hidden()
    assert row.evaluate("r => getComputedStyle(r).display") == "flex"
    assert row.evaluate(OUTSIDE_THE_SCREEN) == []
    for label in ("When", "To", "Next", "State"):
        expect(row.locator(f'td[data-label="{label}"]')).to_be_visible()
    expect(row.locator('td[data-label="Next"]')).to_contain_text(":")
    expect(row.locator('td[data-label="Next"]')).to_be_in_viewport(ratio=1)


@pytest.mark.parametrize("role", ["operator", "manager"])
def test_the_contacts_list_fits_at_1366_and_turns_rows_into_cards_at_390(
    as_role, live_server, role
):
    """Each contact a card on a phone, its name the link to it: no row runs off the screen."""
    from tests.factories import ContactFactory

    page = as_role(role)
    ContactFactory(name="Existing Walk", email="a.rather.long.address@example.com")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{live_server.url}/contacts/")
    table = page.locator("#contacts")
    row = table.locator("tbody tr").first
    assert row.evaluate("r => getComputedStyle(r).display") == "table-row"
    assert page.evaluate(OVERFLOW) <= 0

    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= 390
    assert table.evaluate("t => t.scrollWidth - t.parentElement.clientWidth") <= 0
    assert row.evaluate("r => getComputedStyle(r).display") == "flex"
    expect(row.get_by_role("link", name="Existing Walk")).to_be_visible()
    expect(row.locator("td[data-label=Email]")).to_be_visible()
