from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from smsportal.contacts.models import Contact, ContactList
from smsportal.messaging.models import Message
from tests.factories import PASSWORD, ProviderAccountFactory, SenderIDFactory

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


# The width the selected option's text needs in its select's own font, and the room the select
# gives it (its width less padding and the arrow): a select shows one line and cuts the rest.
OPTION_FITS = """(select) => {
    const style = getComputedStyle(select);
    const context = document.createElement("canvas").getContext("2d");
    context.font = style.font;
    const text = select.options[select.selectedIndex].text;
    const padding = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
    const room = select.clientWidth - padding;
    return {text, needs: context.measureText(text).width, room};
}"""


@pytest.mark.parametrize("width", [1366, 390])
def test_the_sender_choice_is_not_cut_off(page, live_server, login, operator, width):
    kala = ProviderAccountFactory(kind="kalasms", name="KalaSMS shop account")
    SenderIDFactory(account=kala, value="MYSHOP-KW", is_default=True)
    bare = ProviderAccountFactory(kind="isms", name="ISMS account without senders")
    page.set_viewport_size({"width": width, "height": 900})
    login(operator, PASSWORD)
    page.goto(f"{live_server.url}/messages/compose/")

    for account, help_text in [
        (kala, "cannot choose a sender per message"),
        (bare, "has no active sender IDs"),
    ]:
        page.get_by_label("Account").select_option(label=account.name)
        expect(page.locator("#sender-help")).to_contain_text(help_text)  # why, under the select
        fit = page.locator("#id_sender").evaluate(OPTION_FITS)
        assert fit["needs"] <= fit["room"], fit
    expect(page.get_by_label("Sender ID")).to_have_value("")
    page.get_by_label("Account").select_option(label=kala.name)
    expect(page.locator("#id_sender option")).to_have_text(["Default sender (MYSHOP-KW)"])


def test_on_a_phone_a_summary_beside_send_comes_before_the_preview(
    page, live_server, login, operator, account
):
    page.set_viewport_size({"width": 390, "height": 800})
    login(operator, PASSWORD)
    page.goto(f"{live_server.url}/messages/compose/")
    page.get_by_label("Numbers").fill("+965 9711 9440, +965 9711 9441")
    page.get_by_label("Message").fill("a" * 161)

    summary = page.locator("#send-summary")
    expect(summary).to_contain_text("2 numbers · 2 SMS each · estimated cost")
    expect(summary).to_be_visible()
    send = page.get_by_role("button", name="Send…").bounding_box()
    near = summary.bounding_box()
    preview = page.locator("#preview-card").bounding_box()
    # Beside the button (on its row or just under it), and above the preview a phone shows
    # after the form: read before anyone presses Send.
    assert send["y"] <= near["y"] <= send["y"] + send["height"] + 16
    assert near["y"] + near["height"] < preview["y"]

    page.get_by_label("Message").fill("")
    expect(summary).to_contain_text("The message is empty.")


def test_a_refusal_is_gone_once_the_text_is_filled_and_the_account_switched(
    page, live_server, login, operator, account
):
    other = ProviderAccountFactory(kind="isms", name="Second account")
    errors = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    login(operator, PASSWORD)
    page.goto(f"{live_server.url}/messages/compose/")
    page.get_by_label("Numbers").fill("+965 9711 9440")
    page.get_by_role("button", name="Send…").click()  # nothing typed yet
    expect(page.locator("#compose-errors")).to_have_text("The message is empty.")

    page.get_by_label("Message").fill("Now there is a text")
    page.get_by_label("Account").select_option(label=other.name)

    expect(page.locator("#preview-characters")).to_have_text("19")
    expect(page.locator("#compose-errors")).to_be_hidden()
    expect(page.get_by_text("The message is empty.")).to_have_count(0)
    assert errors == []  # every out-of-band target was on the page


def test_a_change_after_send_withdraws_the_confirmation(
    page, live_server, login, operator, account, script
):
    staff = ContactList.objects.create(name="Staff")
    staff.add([Contact.objects.create(phone=f"+9655100000{n}").pk for n in range(1, 4)])
    login(operator, PASSWORD)
    page.goto(f"{live_server.url}/messages/compose/")
    page.get_by_label("Numbers").fill("+965 9711 9440")
    page.get_by_label("Message").fill("Hello")
    page.get_by_role("button", name="Send…").click()
    confirm = page.locator("#confirm")
    expect(confirm).to_contain_text("1 recipient × 1 SMS")

    page.get_by_label("Message").fill("Hello again")

    expect(confirm).to_have_count(0)  # it described the text before the change
    expect(page.get_by_role("button", name="Confirm and send")).to_have_count(0)
    expect(page.locator("#confirm-withdrawn")).to_be_visible()
    page.get_by_label("Lists").select_option(label="Staff")
    page.get_by_role("button", name="Send…").click()
    expect(confirm).to_contain_text("4 recipients × 1 SMS")
    expect(page.locator("#confirm-withdrawn")).to_be_hidden()

    page.get_by_role("button", name="Confirm and send").click()
    expect(page).to_have_url(re.compile(r"/messages/\d+/$"))
    sent = Message.objects.get()
    assert (sent.body, sent.recipient_count) == ("Hello again", 4)
