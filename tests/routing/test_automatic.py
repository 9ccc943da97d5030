"""Compose with the account "Automatic": the preview shows, before anything is sent, how many
recipients go through which account, from which sender ID, at what cost, and who has no route;
the send makes one message per account through the one send path."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from smsportal.messaging.models import Message
from smsportal.routing.models import AccountRouting, DestinationPrice, Route, RouteAccount
from smsportal.sms.status import DeliveryStatus
from tests.factories import ProviderAccountFactory, SenderIDFactory
from tests.support.compose import confirmation_in

pytestmark = pytest.mark.django_db

URL = reverse("messaging:compose")
KW1, KW2, SA1, UK1 = "+96550000001", "+96597000002", "+966500000001", "+447911123456"


def route(name, destinations, *accounts, **fields):
    saved = Route.objects.create(
        name=name, destinations=destinations, position=Route.objects.count() + 1, **fields
    )
    for n, account in enumerate(accounts):
        RouteAccount.objects.create(route=saved, account=account, position=n)
    return saved


@pytest.fixture
def gulf(account):
    """Two accounts with prices and routes: Kuwait by `kuwait`, Saudi Arabia the cheapest."""
    account.name, account.price_per_segment = "Kuwait line", Decimal("0.02")
    account.save()
    saudi = ProviderAccountFactory(
        name="Saudi line", kind="kwtsms", price_per_segment=Decimal("0.05")
    )
    DestinationPrice.objects.create(account=saudi, prefix="966", price_per_part=Decimal("0.01"))
    DestinationPrice.objects.create(account=account, prefix="96597", price_per_part=Decimal("0.03"))
    route("Kuwait", "KW", account)
    route("Saudi", "SA", account, saudi, strategy="cheapest")
    return account, saudi


def post(client, action="preview", **fields):
    data = {
        "account": "auto",
        "sender": "",
        "recipients": "\n".join([KW1, KW2, SA1, UK1]),
        "text": "Hello",
        "token": "tok-auto",
        "action": action,
        **fields,
    }
    return client.post(URL, data, **({"HTTP_HX_REQUEST": "true"} if action == "preview" else {}))


def plain(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_the_preview_splits_recipients_and_cost_by_account(operator_client, gulf):
    text = plain(post(operator_client))
    assert "Kuwait line 2 — 0.05" in text  # 0.02 + 0.03 (the +96597 price)
    assert "Saudi line 1 — 0.01" in text  # the cheapest for +966
    assert "Estimated cost: 0.06" in text
    assert "1 recipient has no route and will not be sent to" in text
    assert "No route matches this number and message. (1)" in text


def test_the_send_makes_one_message_per_account_and_records_who_had_no_route(operator_client, gulf):
    kuwait, saudi = gulf
    unconfirmed = post(operator_client, action="confirm")
    assert 'id="confirm"' in unconfirmed.content.decode()  # shown for confirming, not sent
    assert not Message.objects.exists()
    fingerprint = confirmation_in(unconfirmed)
    response = post(operator_client, action="confirm", confirmation=fingerprint)

    assert response.status_code == 302
    messages = {m.account: m for m in Message.objects.all()}
    assert set(messages) == {kuwait, saudi}
    sent = {
        m.account.name: sorted(
            m.deliveries.exclude(status=DeliveryStatus.SKIPPED).values_list("phone", flat=True)
        )
        for m in messages.values()
    }
    assert sent == {"Kuwait line": [KW1, KW2], "Saudi line": [SA1]}
    skipped = [
        d for m in messages.values() for d in m.deliveries.filter(status=DeliveryStatus.SKIPPED)
    ]
    assert [(d.phone, d.error_text) for d in skipped] == [
        (UK1, "no route: No route matches this number and message.")
    ]
    assert messages[kuwait].estimated_cost == Decimal("0.05")
    assert messages[saudi].estimated_cost == Decimal("0.01")

    again = post(operator_client, action="confirm", confirmation=fingerprint)
    assert again.status_code == 302  # the same form again (a double click): nothing new
    assert Message.objects.count() == 2


@pytest.mark.parametrize(
    "change",
    [
        {"recipients": "\n".join([KW1, KW2, SA1, UK1, "+966500000002"])},  # one more for Saudi
        {"text": "Hello again"},
    ],
)
def test_a_change_after_the_automatic_confirmation_is_shown_again_not_sent(
    operator_client, gulf, change
):
    shown = post(operator_client, action="send")
    assert 'id="confirm-routed"' in shown.content.decode()

    answer = post(operator_client, action="confirm", confirmation=confirmation_in(shown), **change)

    assert not Message.objects.exists()
    assert "The message changed after you reviewed it" in plain(answer)


def test_switching_one_account_to_automatic_after_the_confirmation_sends_nothing(
    operator_client, gulf
):
    kuwait, _saudi = gulf
    shown = post(operator_client, action="send", account=kuwait.pk, recipients=KW1)
    assert "through Kuwait line" in plain(shown)

    answer = post(
        operator_client, action="confirm", confirmation=confirmation_in(shown), recipients=KW1
    )

    assert not Message.objects.exists()
    assert "The message changed after you reviewed it" in plain(answer)
    assert 'id="confirm-routed"' in answer.content.decode()  # the new send: by the routes


def test_a_route_whose_accounts_cannot_carry_the_text_sends_nothing(operator_client, gulf):
    # KwtSMS offers no flash messages (the fake backend offers what the script says: none).
    response = post(operator_client, action="confirm", recipients=KW1, message_type="flash")
    assert not Message.objects.exists()
    assert (
        "No recipient has a route that can send this message. Route “Kuwait” matches, but none "
        "of its accounts can send it (Kuwait line: it cannot send flash messages)."
    ) in plain(response)


def test_the_sender_is_mapped_or_the_recipient_refused_in_the_preview(operator_client, gulf):
    kuwait, saudi = gulf
    SenderIDFactory(account=saudi, value="SHOP")
    text = plain(post(operator_client, sender="SHOP"))
    assert "Saudi line 1 SHOP" in text
    assert "has no sender ID “SHOP” and no default sender for routed messages" in text

    SenderIDFactory(account=kuwait, value="KWT")
    AccountRouting.objects.create(account=kuwait, default_sender="KWT")
    text = plain(post(operator_client, sender="SHOP"))
    assert "Kuwait line 2 KWT" in text


def test_the_preview_names_the_numbers_without_a_route_with_the_reason(operator_client, gulf):
    others = [f"+4479111234{n:02}" for n in range(7)]  # no route for the UK
    response = post(operator_client, recipients="\n".join([KW1, UK1, *others]))
    refused = response.content.decode().split('id="routing-refused"')[1]
    shown = re.findall(r'<code dir="ltr" class="text-nowrap">([^<]+)</code>', refused)
    assert shown == [UK1, *others[:4]]  # a few named, in the order typed
    text = plain(response)
    assert "8 recipients have no route and will not be sent to" in text
    assert "No route matches this number and message. (8)" in text
    assert "and 3 more" in text


def test_the_preview_names_a_number_refused_for_want_of_a_sender(operator_client, gulf):
    _kuwait, saudi = gulf
    SenderIDFactory(account=saudi, value="SHOP")
    text = plain(post(operator_client, sender="SHOP", recipients=f"{KW1}\n{SA1}"))
    assert (
        "Route “Kuwait” matches, but none of its accounts can send it (Kuwait line: it has no "
        "sender ID “SHOP” and no default sender for routed messages). (1) +96550000001"
    ) in text


def test_the_narrow_screen_summary_counts_only_the_numbers_a_route_carries(operator_client, gulf):
    response = post(operator_client)  # KW1, KW2, SA1 have routes; UK1 has none
    summary = plain(response).split("See the preview")[0]
    summary = summary[summary.rindex("numbers") - 3 :]
    assert "3 numbers · 1 SMS each · estimated cost 0.06 · 1 with no route left out" in summary

    data = {"account": "auto", "recipients": "\n".join([KW1, KW2, SA1, UK1]), "text": "Hello"}
    page = operator_client.post(URL, {**data, "action": "preview"})  # the page, without htmx
    assert "3 numbers · 1 SMS each · estimated cost 0.06 · 1 with no route left out" in plain(page)


def test_the_narrow_screen_summary_says_nothing_is_left_out_when_all_have_a_route(
    operator_client, gulf
):
    text = plain(post(operator_client, recipients=f"{KW1}\n{SA1}"))
    assert "2 numbers · 1 SMS each · estimated cost 0.03" in text
    assert "left out" not in text


def test_the_preview_counts_to_send_only_the_numbers_a_route_carries(operator_client, gulf):
    text = plain(post(operator_client))  # KW1, KW2, SA1 have routes; UK1 has none
    assert "3 numbers to send to 1 with no route left out" in text
    assert "4 numbers to send to" not in text
