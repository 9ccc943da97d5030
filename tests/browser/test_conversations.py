"""In the browser, as Operator, Manager and superuser: a number writes, staff open its
conversation from the Inbox, watch the live preview, reply in place, see the reply's status move
to delivered, and the number's answer arrive below it.

With SCREENSHOTS=<folder> set, each page is saved at 1366 and 390 px wide."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from smsportal.messaging.delivery_reports.apply import apply_status_update
from smsportal.messaging.inbound import receive
from smsportal.messaging.models import Delivery
from smsportal.providers.backends.base import InboundSMS, StatusUpdate
from smsportal.sms.status import DeliveryStatus
from tests.browser.test_opt_outs_and_retry import shoot
from tests.conftest import general_department
from tests.factories import PASSWORD, ContactFactory

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = "+96597119440"


@pytest.fixture
def superuser(db):
    # In "General" like every user after the upgrade: a reply is sent as one of the replier's
    # departments (a superuser sees every department, but sends as one it belongs to).
    user = get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    general_department().members.add(user)
    return user


def _incoming(account, text):
    receive(account, InboundSMS(sender=PHONE.lstrip("+"), recipient="1234", text=text, raw={}))


@pytest.mark.parametrize("role", ["operator", "manager", "superuser"])
def test_a_conversation_with_replies_both_ways_and_statuses(
    page, live_server, login, role, request, account, script
):
    user = request.getfixturevalue(role)
    ContactFactory(phone=PHONE, name="Fatima")
    _incoming(account, "Is the clinic open on Friday?")

    login(user, PASSWORD)
    page.goto(f"{live_server.url}/messages/inbox/")
    row = page.locator("[data-conversation]", has_text="Fatima")
    expect(row).to_contain_text("1 new")
    expect(row).to_contain_text("Is the clinic open on Friday?")
    shoot(page, f"inbox-{role}")
    row.click()

    expect(page.locator("h1")).to_contain_text("Fatima")
    # The heading is there before the page's deferred scripts have run: typed before htmx set
    # up the reply box, the first input would go unheard (seen once under a loaded CI run).
    page.wait_for_load_state()
    box = page.get_by_label(f"Reply through {account.name}")
    box.fill("نعم، من ٩ إلى ١")
    expect(page.locator("#reply-encoding")).to_have_text("Unicode")
    box.fill("Yes, from 9 to 1.")
    expect(page.locator("#reply-encoding")).to_have_text("Standard")
    expect(page.locator("#reply-segments")).to_have_text("1 SMS")
    page.get_by_role("button", name="Send reply").click()

    reply = page.locator('[data-direction="out"]', has_text="Yes, from 9 to 1.")
    expect(reply.locator("[data-status]")).to_have_text("submitted")
    expect(page.get_by_label(f"Reply through {account.name}")).to_have_value("")
    assert script.sent_to() == [PHONE]

    delivery = Delivery.objects.get(phone=PHONE)
    apply_status_update(
        account,
        StatusUpdate(
            provider_message_id=delivery.provider_message_id, status=DeliveryStatus.DELIVERED
        ),
    )
    _incoming(account, "Thank you!")
    page.reload()
    items = page.locator(".thread-item")
    expect(items).to_have_count(3)
    expect(items.nth(1).locator("[data-status]")).to_have_text("delivered")
    expect(items.nth(2)).to_contain_text("Thank you!")
    expect(items.nth(2)).to_have_attribute("data-direction", "in")
    shoot(page, f"conversation-{role}")

    page.get_by_role("link", name="Contact details").click()
    expect(page.locator("#contact-conversations")).to_contain_text("Thank you!")
    shoot(page, f"contact-conversation-{role}")


def test_a_superuser_in_two_departments_chooses_which_answers_a_new_thread(
    page, live_server, login, account, script
):
    """A number no department wrote to sends HELP: a replier in several departments chooses
    the one the reply (and from then on the thread) is sent as, in place."""
    from smsportal.departments.models import Department
    from smsportal.messaging.models import Conversation, Message

    user = get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    sales = Department.objects.create(name="Sales")
    support = Department.objects.create(name="Support")
    sales.members.add(user)
    support.members.add(user)
    _incoming(account, "HELP")
    convo = Conversation.objects.get()

    login(user, PASSWORD)
    page.goto(f"{live_server.url}{convo.get_absolute_url()}")
    choice = page.get_by_label("Department")
    expect(choice).to_be_visible()
    choice.select_option(label="Support")
    page.get_by_label(f"Reply through {account.name}").fill("How can we help?")
    shoot(page, "conversation-choose-department")
    page.get_by_role("button", name="Send reply").click()

    reply = page.locator('[data-direction="out"]', has_text="How can we help?")
    expect(reply.locator("[data-status]")).to_have_text("submitted")
    expect(page.get_by_label("Department")).to_have_count(0)  # the thread is Support's now
    assert Message.objects.get(created_by=user).department == support
    convo.refresh_from_db()
    assert convo.department == support


def test_a_refused_reply_clears_once_retyped_and_the_header_counts_the_sent_one(
    page, live_server, login, operator, account, script
):
    _incoming(account, "Can you resend the time?")
    login(operator, PASSWORD)
    page.goto(f"{live_server.url}/messages/inbox/")
    page.locator("[data-conversation]").first.click()
    counts = page.locator("#conversation-counts")
    expect(counts).to_contain_text("0 replies")

    box = page.get_by_label(f"Reply through {account.name}")
    box.fill("   ")
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator("#reply-text-errors")).to_have_text("Write the reply first.")
    box = page.get_by_label(f"Reply through {account.name}")
    expect(box).to_have_class(re.compile(r"\bis-invalid\b"))
    shoot(page, "reply-refused")

    box.press_sequentially("At ten")
    expect(page.locator("#reply-segments")).to_have_text("1 SMS")
    expect(page.locator("#reply-text-errors")).to_be_empty()
    expect(box).not_to_have_class(re.compile(r"\bis-invalid\b"))
    shoot(page, "reply-retyped")

    page.get_by_role("button", name="Send reply").click()
    expect(page.locator('[data-direction="out"]', has_text="At ten")).to_be_visible()
    expect(counts).to_contain_text("1 reply")
    shoot(page, "reply-sent")
