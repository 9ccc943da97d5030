"""Changing a scheduled message in Chromium: the preview follows the new text as on Compose, a
dearer text is said to cost more before Save, and Save asks to confirm it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from smsportal.messaging.models import Message
from smsportal.messaging.sending import ResolvedRecipients
from tests.factories import PASSWORD
from tests.support.sending import create_message

pytestmark = pytest.mark.django_db(transaction=True)

ARABIC = ("مرحبا بكم في البوابة “like this” " * 8)[:240]


def test_a_dearer_text_is_previewed_warned_about_and_confirmed_before_it_is_saved(
    page, live_server, login, operator, account, script, settings
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    message = create_message(
        account=account,
        body="Scheduled walk test",
        recipients=ResolvedRecipients(phones=["+96550000001"]),
        scheduled_for=timezone.now() + timedelta(days=1),
        created_by=operator,
    )
    login(operator, PASSWORD)
    page.goto(f"{live_server.url}/messages/{message.pk}/edit/")
    expect(page.locator("#preview-encoding")).to_have_text("Standard")
    expect(page.locator("#preview-segments")).to_have_text("1")

    page.get_by_label("Text").fill(ARABIC)

    expect(page.locator("#preview-encoding")).to_have_text("Unicode")
    expect(page.locator("#preview-segments")).to_have_text("4")
    expect(page.locator("#preview-costs-more")).to_contain_text("4 SMS instead of 1")
    page.get_by_role("button", name="Save", exact=True).click()
    confirm = page.locator("#confirm")
    expect(confirm).to_contain_text("estimated cost 0.04 instead of 0.01 credits. Save anyway?")

    page.get_by_label("Text").fill(ARABIC[:200])  # a change withdraws it, as on Compose
    expect(confirm).to_have_count(0)
    expect(page.locator("#confirm-withdrawn")).to_be_visible()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(confirm).to_contain_text("each message 3 SMS instead of 1")
    assert Message.objects.get().body == "Scheduled walk test"

    page.get_by_role("button", name="Save anyway").click()
    expect(page).to_have_url(re.compile(rf"/messages/{message.pk}/$"))
    changed = Message.objects.get()
    assert (changed.body, changed.segments) == (ARABIC[:200], 3)
