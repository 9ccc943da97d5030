"""Changing a scheduled message in Chromium: the preview follows the new text as on Compose, a
dearer text is said to cost more before Save (above it, on a phone as on a laptop), and Save asks
to confirm it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from smsportal.core.models import Preference
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
    expect(page.locator("#edit-costs-more")).to_contain_text("4 SMS instead of 1")
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


OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def top_and_bottom(locator) -> tuple[float, float]:
    box = locator.bounding_box()
    return box["y"], box["y"] + box["height"]


@pytest.mark.parametrize("role, language", [("operator", "en"), ("manager", "ar")])
def test_the_cost_warning_and_the_confirmation_come_before_save_on_a_phone_and_a_laptop(
    page, live_server, login, account, script, settings, request, role, language
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    user = request.getfixturevalue(role)
    Preference.objects.create(user=user, language=language)
    message = create_message(
        account=account,
        body="Scheduled walk test",
        recipients=ResolvedRecipients(phones=["+96550000001"]),
        scheduled_for=timezone.now() + timedelta(days=1),
        created_by=user,
    )
    login(user, PASSWORD)
    save = page.locator("#edit-actions button[value=save]")
    # Found by what it says ("4 SMS" in either language), wherever the page puts it.
    warning = page.locator(".alert-warning", has_text="4 SMS")

    for width, height in ((390, 844), (1366, 768)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/messages/{message.pk}/edit/")
        page.locator("#id_body").fill(ARABIC)
        expect(warning).to_be_visible()
        # Read before Save is pressed: above it (on a phone the preview is below the form).
        assert top_and_bottom(warning)[1] <= top_and_bottom(save)[0], width
        assert page.evaluate(OVERFLOW) <= 0, width
        # The chip naming the Arabic letters that cost Unicode is one piece, not broken in two.
        chip = page.locator("#preview-non-gsm bdi.small")
        assert chip.evaluate("c => c.getClientRects().length") == 1, width
        if width == 1366:  # the preview still beside the form: at its right (left in Arabic)
            preview = page.locator("#preview-card").bounding_box()
            text = page.locator("#id_body").bounding_box()
            if language == "ar":
                assert preview["x"] + preview["width"] <= text["x"]
            else:
                assert preview["x"] >= text["x"] + text["width"]

    page.set_viewport_size({"width": 390, "height": 844})
    save.click()
    confirm = page.locator("#confirm")
    expect(confirm).to_contain_text("4 SMS")
    expect(warning).to_have_count(1)  # the confirmation asks it; the warning is not said again
    assert (
        top_and_bottom(confirm.locator("#confirm-cost"))[1]
        <= top_and_bottom(confirm.locator("button[value=save]"))[0]
    )
    assert page.evaluate(OVERFLOW) <= 0
