"""Changing a scheduled message's text: the page shows Compose's live preview of the new text
(alphabet, parts, costly characters) and what the change does to the cost; a change that makes
the message cost more is saved only once confirmed, and the server refuses it otherwise."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from smsportal.messaging.models import Message
from smsportal.messaging.sending import CostRises, ResolvedRecipients, reschedule
from smsportal.providers.backends.base import Balance
from tests.factories import BalanceSnapshotFactory
from tests.support.sending import create_message

pytestmark = pytest.mark.django_db

# Long Arabic with curly quotes: Unicode, 4 SMS (the tester's text).
ARABIC = ("مرحبا بكم في البوابة “like this” " * 8)[:240]
QUESTION = (
    "This change makes each message 4 SMS instead of 1 (Unicode instead of Standard): "
    "estimated cost 0.04 instead of 0.01 credits. Save anyway?"
)


@pytest.fixture(autouse=True)
def _tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


@pytest.fixture
def scheduled(account, operator):
    return create_message(
        account=account,
        body="Scheduled walk test",
        recipients=ResolvedRecipients(phones=["+96550000001"]),
        scheduled_for=timezone.now() + timedelta(days=1),
        created_by=operator,
    )


def edit_url(message: Message) -> str:
    return reverse("messaging:message_edit", args=[message.pk])


def form(message: Message, body: str, **extra) -> dict:
    when = timezone.localtime(message.scheduled_for).strftime("%Y-%m-%d %H:%M")
    return {"body": body, "scheduled_for": when, **extra}


def text_of(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</(?:strong|p|div)>', html, re.S)
    assert found, f"#{element_id} is on the page"
    return re.sub(r"<[^>]+>|\s+", " ", found.group(1)).strip()


def test_the_page_opens_with_the_preview_of_the_text_as_on_compose(scheduled, operator_client):
    html = operator_client.get(edit_url(scheduled)).content.decode()

    assert 'id="preview"' in html and f'hx-post="{edit_url(scheduled)}"' in html
    assert text_of(html, "preview-encoding") == "Standard"
    assert text_of(html, "preview-segments") == "1"
    assert "Estimated cost: <strong>0.01</strong> (was 0.01)" in html
    assert 'id="edit-costs-more"' not in html
    assert "js/compose.js" in html  # a change withdraws the confirmation, as on Compose


def test_the_live_preview_counts_the_new_text_and_warns_that_it_costs_more(
    scheduled, operator_client
):
    response = operator_client.post(
        edit_url(scheduled), form(scheduled, ARABIC, action="preview"), HTTP_HX_REQUEST="true"
    )

    html = response.content.decode()
    assert text_of(html, "preview-encoding") == "Unicode"
    assert text_of(html, "preview-segments") == "4"
    assert "Estimated cost: <strong>0.04</strong> (was 0.01)" in html
    # The warning goes before Save, which a phone shows above the preview: out of band.
    assert '<div id="edit-cost" role="status" hx-swap-oob="innerHTML">' in html
    assert "makes each message 4 SMS instead of 1 (Unicode instead of Standard)" in text_of(
        html, "edit-costs-more"
    )
    assert 'id="preview-non-gsm"' in html  # the characters that cost Unicode, named
    scheduled.refresh_from_db()
    assert scheduled.body == "Scheduled walk test"  # a preview saves nothing


def test_use_standard_characters_swaps_the_text_field(scheduled, operator_client):
    response = operator_client.post(
        edit_url(scheduled), form(scheduled, "“like this”", action="gsm"), HTTP_HX_REQUEST="true"
    )

    html = response.content.decode()
    assert html.startswith('<div id="text-field">') and "&quot;like this&quot;</textarea>" in html
    assert response["HX-Trigger-After-Settle"] == "compose-changed"


def test_saving_a_dearer_text_asks_first_and_saves_only_once_confirmed(scheduled, operator_client):
    asked = operator_client.post(edit_url(scheduled), form(scheduled, ARABIC, action="save"))

    assert asked.status_code == 200
    html = asked.content.decode()
    assert text_of(html, "confirm-cost") == QUESTION
    # Asked once: the warning before Save waits, empty, for a change that withdraws the question.
    assert 'id="edit-cost"' in html and 'id="edit-costs-more"' not in html
    token = re.search(r'name="accept_change" value="([^"]+)"', html).group(1)
    scheduled.refresh_from_db()
    assert (scheduled.body, scheduled.segments, scheduled.estimated_cost) == (
        "Scheduled walk test",
        1,
        Decimal("0.01"),
    )

    saved = operator_client.post(
        edit_url(scheduled), form(scheduled, ARABIC, action="save", accept_change=token)
    )

    assert saved.status_code == 302
    scheduled.refresh_from_db()
    assert (scheduled.body, scheduled.encoding, scheduled.segments) == (ARABIC, "UCS-2", 4)
    assert scheduled.estimated_cost == Decimal("0.04")


def test_a_confirmation_of_another_text_does_not_save_a_dearer_one(scheduled, operator_client):
    first = operator_client.post(edit_url(scheduled), form(scheduled, ARABIC[:100]))
    token = re.search(r'name="accept_change" value="([^"]+)"', first.content.decode()).group(1)

    again = operator_client.post(edit_url(scheduled), form(scheduled, ARABIC, accept_change=token))

    html = again.content.decode()
    assert again.status_code == 200 and text_of(html, "confirm-cost") == QUESTION
    assert "The text changed after you reviewed it" in html
    scheduled.refresh_from_db()
    assert scheduled.body == "Scheduled walk test"


def test_back_to_editing_warns_before_save_again(scheduled, operator_client):
    response = operator_client.post(edit_url(scheduled), form(scheduled, ARABIC, action="preview"))

    html = response.content.decode()
    assert "confirm-cost" not in html
    assert "4 SMS instead of 1" in text_of(html, "edit-costs-more")
    assert html.index('id="edit-costs-more"') < html.index('id="edit-actions"')


def test_a_text_that_costs_no_more_saves_without_asking(scheduled, operator_client):
    response = operator_client.post(edit_url(scheduled), form(scheduled, "Walk test, moved"))

    assert response.status_code == 302
    scheduled.refresh_from_db()
    assert scheduled.body == "Walk test, moved"


def test_the_service_refuses_a_dearer_text_without_its_confirmation(scheduled):
    later = scheduled.scheduled_for

    with pytest.raises(CostRises, match="4 SMS instead of 1") as refused:
        reschedule(scheduled, body=ARABIC, scheduled_for=later)
    with pytest.raises(CostRises):
        reschedule(scheduled, body=ARABIC, scheduled_for=later, accept="UCS-2:4:0.01")

    reschedule(scheduled, body=ARABIC, scheduled_for=later, accept=refused.value.change.token)
    scheduled.refresh_from_db()
    assert scheduled.segments == 4


def test_a_dearer_text_the_balance_cannot_cover_is_refused_even_confirmed(
    account, script, operator, operator_client
):
    script.balance = Balance(amount=Decimal("1"))  # the provider reports balances
    BalanceSnapshotFactory(account=account, amount=Decimal("0.02"))
    message = create_message(
        account=account,
        body="Scheduled walk test",
        recipients=ResolvedRecipients(phones=["+96550000001"]),
        scheduled_for=timezone.now() + timedelta(days=1),
        created_by=operator,
    )
    asked = operator_client.post(edit_url(message), form(message, ARABIC))
    token = re.search(r'name="accept_change" value="([^"]+)"', asked.content.decode()).group(1)

    refused = operator_client.post(edit_url(message), form(message, ARABIC, accept_change=token))

    assert refused.status_code == 200
    assert "needs 0.04 credits" in text_of(refused.content.decode(), "edit-errors")
    message.refresh_from_db()
    assert message.segments == 1


def test_the_time_is_shown_to_the_minute_and_kept_to_the_second_when_unchanged(
    scheduled, operator_client
):
    scheduled.scheduled_for = scheduled.scheduled_for.replace(second=38, microsecond=0)
    scheduled.save()
    shown = timezone.localtime(scheduled.scheduled_for).strftime("%Y-%m-%dT%H:%M")

    page = operator_client.get(edit_url(scheduled)).content.decode()
    assert (
        re.search(r'<input type="datetime-local" name="scheduled_for" value="([^"]+)"', page)[1]
        == shown
    )  # no seconds field beside the minutes

    operator_client.post(edit_url(scheduled), form(scheduled, "Kept time", action="save"))
    changed = Message.objects.get()
    assert (changed.body, changed.scheduled_for) == ("Kept time", scheduled.scheduled_for)
