from __future__ import annotations

import re

import pytest
from django.urls import reverse

from smsportal.messaging.models import Message
from tests.support.compose import confirm_and_send, confirmation_in

pytestmark = pytest.mark.django_db

URL = reverse("messaging:compose")


def form(account, **fields):
    return {
        "account": account.pk,
        "sender": "",
        "recipients": "+96550000001",
        "text": "Hello",
        "token": "tok-1",
        **fields,
    }


def test_the_page_offers_the_active_accounts(operator_client, account):
    page = operator_client.get(URL).content.decode()

    assert account.name in page
    assert 'id="preview"' in page


def test_the_htmx_preview_is_a_fragment_with_the_figures(operator_client, account):
    response = operator_client.post(
        URL, form(account, text="Hi 😀", action="preview"), HTTP_HX_REQUEST="true"
    )

    body = response.content.decode()
    assert "<html" not in body
    assert response.context["analysis"].encoding == "UCS-2"
    assert 'class="badge text-bg-warning" title="Unicode">Unicode<' in body
    assert 'id="preview-segments">1<' in body


def test_without_javascript_the_preview_button_renders_the_same_preview(operator_client, account):
    response = operator_client.post(URL, form(account, text="a" * 161, action="preview"))

    body = response.content.decode()
    assert "<html" in body
    assert 'id="preview-segments">2<' in body


def test_the_preview_lists_invalid_numbers_with_reasons_and_removes_duplicates(
    operator_client, account
):
    numbers = "+96550000001\n0096550000001, 965 5000 0001; hello\n+965 97"

    response = operator_client.post(
        URL, form(account, recipients=numbers, action="preview"), HTTP_HX_REQUEST="true"
    )

    summary = response.context["summary"]
    assert summary.phones == ["+96550000001"]
    assert summary.duplicates == 2
    assert summary.invalid == [("hello", "not a number"), ("+965 97", "too short")]
    assert "hello</code> — not a number" in response.content.decode()


def test_the_gsm_button_replaces_look_alikes_and_says_what_it_saves(operator_client, account):
    text = "“Quote” " * 10
    preview = operator_client.post(
        URL, form(account, text=text, action="preview"), HTTP_HX_REQUEST="true"
    )
    assert "saves 1 SMS per recipient" in preview.content.decode()

    response = operator_client.post(
        URL, form(account, text=text, action="gsm"), HTTP_HX_REQUEST="true"
    )

    assert '"Quote" "Quote"' in response.content.decode().replace("&quot;", '"')
    assert response["HX-Trigger-After-Settle"] == "compose-changed"


def test_send_asks_for_confirmation_then_sends_once(
    operator_client, account, script, django_capture_on_commit_callbacks
):
    first = operator_client.post(URL, form(account, action="send"))
    assert 'id="confirm"' in first.content.decode()
    assert not Message.objects.exists()
    confirmed = form(account, action="confirm", confirmation=confirmation_in(first))

    with django_capture_on_commit_callbacks(execute=True):
        sent = operator_client.post(URL, confirmed)
        again = operator_client.post(URL, confirmed)  # double click

    message = Message.objects.get()
    assert sent["Location"] == again["Location"] == message.get_absolute_url()
    assert script.sent_to() == ["+96550000001"]


def test_an_empty_text_is_refused_with_the_reason(operator_client, account):
    response = operator_client.post(URL, form(account, text="", action="send"))

    assert "The message is empty." in response.content.decode()
    assert not Message.objects.exists()


def test_an_empty_text_to_nobody_says_both_reasons_once(operator_client, account):
    """Send… with an empty text and no number said only "The message is empty." (three times
    on a phone: above the form, beside the button and in the preview): every reason is said
    above the form, and the preview does not say it again."""
    body = operator_client.post(
        URL, form(account, text="", recipients="", action="send")
    ).content.decode()

    errors = re.search(r'id="compose-errors">(.*?)</div>', body, re.S)[1]
    assert "The message is empty." in errors
    assert "There is no recipient to send to." in errors
    assert 'id="preview-problem"' not in body
    # Above the form, and beside the button (on a phone, the summary there says every reason).
    assert body.count("The message is empty.") == 2
    summary = body[body.index('id="send-summary"') :]
    assert "There is no recipient to send to." in summary[: summary.index("</div>")]
    assert not Message.objects.exists()


def test_a_text_too_long_to_send_is_said_once_above_the_form(operator_client, account):
    account.max_parts = 2
    account.save()

    body = operator_client.post(URL, form(account, text="مرحبا " * 40, action="send")).content
    body = body.decode()

    errors = re.search(r'id="compose-errors">(.*?)</div>', body, re.S)[1]
    assert "which holds no more than 134 characters" in errors
    assert re.search(r'<div class="card" id="preview-card" hidden>', body)
    assert not Message.objects.exists()


def test_no_valid_recipient_is_refused(operator_client, account):
    response = operator_client.post(URL, form(account, recipients="nope", action="send"))

    assert "There is no recipient to send to." in response.content.decode()


def test_a_reply_from_the_inbox_opens_compose_prefilled(operator_client, account):
    response = operator_client.get(URL, {"account": account.pk, "to": "+96550000009"})

    assert response.context["form"].initial["recipients"] == "+96550000009"


def test_an_outsider_cannot_compose(client, outsider):
    client.force_login(outsider)

    assert client.get(URL).status_code == 403


def test_a_send_the_balance_cannot_pay_is_refused_with_the_figures(
    operator_client, account, script
):
    from decimal import Decimal

    from smsportal.credits.models import BalanceSnapshot
    from smsportal.providers.backends.base import Balance

    script.balance = Balance(amount=Decimal("0.005"))
    BalanceSnapshot.objects.record(account, script.balance, "refresh")

    response = operator_client.post(URL, form(account, action="send"))

    body = response.content.decode()
    assert "This send needs 0.01 credits" in body
    assert 'id="confirm"' not in body


def test_the_sender_must_be_an_active_sender_id_of_the_account(operator_client, account):
    from tests.factories import SenderIDFactory

    SenderIDFactory(account=account, value="ACME")

    refused = operator_client.post(URL, form(account, sender="OTHER", action="send"))
    accepted = operator_client.post(URL, form(account, sender="ACME", action="send"))

    assert "OTHER is not a sender ID of" in refused.content.decode()
    assert 'id="confirm"' in accepted.content.decode()


def test_the_note_after_sending_stays_true_once_the_send_is_done(
    operator_client, account, script, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sent = confirm_and_send(operator_client, form(account), follow=True)

    body = sent.content.decode()
    assert "to 1 recipient was handed to the send queue." in body
    assert "this page follows it" not in body


def test_the_live_preview_puts_a_summary_beside_the_send_button(operator_client, account):
    numbers = "+96550000001, +96550000002"
    response = operator_client.post(
        URL,
        form(account, recipients=numbers, text="a" * 161, action="preview"),
        HTTP_HX_REQUEST="true",
    )

    body = response.content.decode()
    summary = body[body.index('id="send-summary"') :]
    summary = summary[: summary.index("</div>")]
    assert 'hx-swap-oob="true"' in summary  # it lives beside the button, not in the preview
    assert "2 numbers · 2 SMS each · estimated cost" in " ".join(summary.split())
    page = operator_client.get(URL).content.decode()
    buttons = page[page.index('value="send"') :]
    assert buttons.index('id="send-summary"') < buttons.index("</form>")


def test_the_summary_beside_the_send_button_says_why_it_cannot_go(operator_client, account):
    response = operator_client.post(
        URL, form(account, text="", action="preview"), HTTP_HX_REQUEST="true"
    )

    body = response.content.decode()
    summary = body[body.index('id="send-summary"') :]
    assert "The message is empty." in summary[: summary.index("</div>")]


def test_a_change_after_a_refused_send_clears_the_refusal_shown_above_the_form(
    operator_client, account
):
    refused = operator_client.post(URL, form(account, text="", action="send")).content.decode()
    assert '<div class="alert alert-danger" id="compose-errors">The message is empty.' in refused

    # The text filled, the account switched: the live preview replaces the stale refusal.
    live = operator_client.post(
        URL, form(account, text="Filled now", action="preview"), HTTP_HX_REQUEST="true"
    ).content.decode()

    assert (
        '<div class="alert alert-danger" id="compose-errors" hx-swap-oob="true" hidden></div>'
        in (live)
    )
    assert "The message is empty." not in live


def sender_select(body: str) -> str:
    start = body.index('id="id_sender"')
    return body[start : body.index("</select>", start)]


def test_an_added_sender_id_leaves_the_providers_default_sender_first_and_chosen(
    manager_client, account
):
    """Adding a sender ID that is not the default must not take away the default an account
    sent from before: the provider's default sender (an empty sender) stays the chosen first
    choice, the added ID after it, and choosing it sends exactly as before."""
    from tests.factories import SenderIDFactory

    SenderIDFactory(account=account, value="WalkCo")

    select = sender_select(manager_client.get(URL, {"account": account.pk}).content.decode())

    assert '<option value="" selected>The provider\'s default sender</option>' in select
    assert select.index("The provider's default sender") < select.index("WalkCo")
    assert '<option value="WalkCo">WalkCo</option>' in select
    sent = confirm_and_send(manager_client, form(account))
    assert sent.status_code == 302
    assert Message.objects.get().sender == ""


def test_a_sender_id_marked_default_is_the_first_choice_and_no_provider_default(
    operator_client, account
):
    from tests.factories import SenderIDFactory

    SenderIDFactory(account=account, value="WalkCo")
    SenderIDFactory(account=account, value="Main", is_default=True)

    select = sender_select(operator_client.get(URL, {"account": account.pk}).content.decode())

    assert "provider" not in select
    assert select.index('<option value="Main" selected>Main (default)') < select.index("WalkCo")


def test_the_confirmation_keeps_the_sender_chosen(operator_client, account):
    """The confirmation step renders the form again: the select must still hold the sender
    chosen, or "Confirm and send" sends from another one."""
    from tests.factories import SenderIDFactory

    SenderIDFactory(account=account, value="Main", is_default=True)
    SenderIDFactory(account=account, value="WalkCo")

    confirm = operator_client.post(URL, form(account, sender="WalkCo", action="send"))

    select = sender_select(confirm.content.decode())
    assert 'id="confirm"' in confirm.content.decode()
    assert '<option value="WalkCo" selected>' in select
    assert '<option value="Main">' in select


def test_a_sender_retired_while_the_page_was_open_stays_chosen_and_marked_after_the_refusal(
    operator_client, account
):
    # Sending again must not go from a sender nobody chose (the provider's default, first).
    import re

    from tests.factories import SenderIDFactory

    SenderIDFactory(account=account, value="ACME", status="retired")

    page = operator_client.post(URL, form(account, sender="ACME", action="send")).content.decode()

    assert "ACME has been retired and can no longer be sent from" in page
    select = re.search(r'<select[^>]*name="sender".*?</select>', page, re.S).group(0)
    (chosen,) = re.findall(r'<option value="([^"]*)"[^>]* selected>([^<]*)<', select)
    assert chosen == ("ACME", "ACME (retired — choose another)")
