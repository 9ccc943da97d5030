"""In the browser, as Operator, Manager and superuser: a keyword rule (made in the form where the
role may) adds the sender to a list and replies; STOP gets the confirmation and opts out; a rule
for STOP is refused with the reason.

With SCREENSHOTS=<folder> set, each page is saved at 1366 and 390 px wide."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from smsportal.contacts.models import ContactList, OptOut
from smsportal.keywords.models import KeywordRule
from smsportal.messaging.inbound import receive
from smsportal.messaging.models import Conversation
from smsportal.providers.backends.base import InboundSMS
from tests.browser.test_opt_outs_and_retry import shoot
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

JOINER = "+96597119440"
STOPPER = "+96597119441"


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)


def _incoming(account, sender, text):
    receive(account, InboundSMS(sender=sender, recipient="", text=text, raw={}))


@pytest.mark.parametrize("role", ["operator", "manager", "superuser"])
def test_a_keyword_adds_to_a_list_and_replies_and_stop_is_confirmed(
    page, live_server, login, role, request, account, script
):
    user = request.getfixturevalue(role)
    offers = ContactList.objects.create(name="Offers")
    login(user, PASSWORD)
    page.goto(f"{live_server.url}/keywords/")
    if role == "operator":
        expect(page.get_by_role("link", name="New rule")).to_have_count(0)
        KeywordRule.objects.create(
            account=account, keyword="JOIN", reply="Welcome to our offers!", add_to_list=offers
        )
    else:
        page.get_by_role("link", name="New rule").click()
        page.wait_for_load_state()  # htmx listens from the load on: a change before it is lost
        page.get_by_label("Account").select_option(str(account.pk))
        page.get_by_label("Keyword").fill("stop")
        page.get_by_label("Automatic reply").fill("Welcome to our offers!")
        page.get_by_role("button", name="Save").click()
        expect(page.locator("#rule-form")).to_contain_text("so a rule cannot use it")
        shoot(page, f"keyword-refused-{role}")
        page.get_by_label("Keyword").fill("JOIN")
        page.get_by_label("Add the sender to").select_option(str(offers.pk))
        page.get_by_role("button", name="Save").click()
        expect(page.locator("#rules")).to_contain_text("JOIN")

    _incoming(account, JOINER, "join")
    _incoming(account, STOPPER, "STOP")
    page.goto(f"{live_server.url}/keywords/")
    expect(page.locator("#auto-replies tr", has_text=JOINER)).to_contain_text(
        "added to Offers; replied"
    )
    expect(page.locator("#auto-replies tr", has_text=STOPPER)).to_contain_text("replied")
    shoot(page, f"keywords-{role}")

    convo = Conversation.objects.get(phone=JOINER)
    page.goto(f"{live_server.url}{convo.get_absolute_url()}")
    reply = page.locator('[data-direction="out"]')
    expect(reply).to_contain_text("Welcome to our offers!")
    expect(reply.locator("[data-status]")).to_have_text("submitted")

    page.goto(f"{live_server.url}/contacts/?list={offers.pk}")
    expect(page.locator("main")).to_contain_text(JOINER)

    stopped = Conversation.objects.get(phone=STOPPER)
    page.goto(f"{live_server.url}{stopped.get_absolute_url()}")
    expect(page.locator("[data-keyword-effect]")).to_have_text("opted out")
    expect(page.locator('[data-direction="out"]')).to_contain_text("You will get no more messages")
    shoot(page, f"stop-conversation-{role}")
    assert OptOut.objects.filter(phone=STOPPER).exists()
    assert sorted(script.sent_to()) == [JOINER, STOPPER]
