"""POST /api/v1/preview with account "automatic", as Compose's "Automatic" preview: how many
recipients go through which account, from which sender ID, at what cost, and which numbers are
refused with the reason - in the words of POST /messages' answer; nothing is created."""

from __future__ import annotations

from decimal import Decimal

import pytest

from smsportal.messaging.models import Message
from smsportal.routing.models import AccountRouting, DestinationPrice, Route, RouteAccount
from tests.factories import (
    ContactFactory,
    ContactListFactory,
    OptOutFactory,
    ProviderAccountFactory,
    SenderIDFactory,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/preview"
KW1, KW2, SA1, UK1 = "+96550000001", "+96597000002", "+966500000001", "+447911123456"


@pytest.fixture
def gulf(account):
    """Kuwait through `account`; Saudi Arabia through the cheapest of the two (Saudi line)."""
    account.name, account.price_per_segment = "Kuwait line", Decimal("0.02")
    account.save()
    saudi = ProviderAccountFactory(
        name="Saudi line", kind="kwtsms", price_per_segment=Decimal("0.05")
    )
    DestinationPrice.objects.create(account=saudi, prefix="966", price_per_part=Decimal("0.01"))
    DestinationPrice.objects.create(account=account, prefix="96597", price_per_part=Decimal("0.03"))
    for n, (name, where, targets, strategy) in enumerate(
        [("Kuwait", "KW", [account], "ordered"), ("Saudi", "SA", [account, saudi], "cheapest")]
    ):
        route = Route.objects.create(
            name=name, destinations=where, position=n + 1, strategy=strategy
        )
        for position, target in enumerate(targets):
            RouteAccount.objects.create(route=route, account=target, position=position)
    return account, saudi


def test_it_answers_which_account_carries_whom_at_what_cost_and_who_is_refused(
    operator, gulf, key_for
):
    kuwait, saudi = gulf
    answer = key_for(operator)(
        "POST", URL, {"account": "automatic", "to": [KW1, KW2, SA1, UK1, KW1], "text": "Hello"}
    )
    assert answer.status_code == 200, answer.content
    data = answer.json()
    assert data["routing"] == [
        {
            "account": kuwait.pk,
            "account_name": "Kuwait line",
            "recipient_count": 2,
            "sender": "",
            "segments": 1,
            "estimated_cost": "0.0500",  # 0.02 + 0.03 (the +96597 price)
            "routes": ["Kuwait"],
        },
        {
            "account": saudi.pk,
            "account_name": "Saudi line",
            "recipient_count": 1,
            "sender": "",
            "segments": 1,
            "estimated_cost": "0.0100",  # the cheapest for +966
            "routes": ["Saudi"],
        },
    ]
    assert data["estimated_cost"] == "0.0600"
    assert (data["sendable"], data["problem"], data["max_parts"]) == (True, "", None)
    recipients = data["recipients"]
    assert (recipients["queued"], recipients["skipped"], recipients["duplicates"]) == (3, 1, 1)
    assert recipients["outcomes"][0] == {  # the numbers left out first
        "to": UK1,
        "outcome": "skipped",
        "reason": "no route: No route matches this number and message.",
    }
    assert recipients["outcomes_complete"] is True
    assert not Message.objects.exists()


def test_the_numbers_left_out_are_named_first_when_not_all_lines_fit(
    operator, gulf, key_for, monkeypatch
):
    monkeypatch.setattr("smsportal.api.sending.MAX_OUTCOMES", 2)
    body = {"account": "automatic", "to": [KW1, KW2, SA1, UK1], "text": "Hello"}
    recipients = key_for(operator)("POST", URL, body).json()["recipients"]
    assert [line["to"] for line in recipients["outcomes"]] == [UK1, KW1]
    assert (recipients["queued"], recipients["skipped"]) == (3, 1)
    assert recipients["outcomes_complete"] is False


def test_a_number_whose_route_has_no_valid_sender_is_refused_with_the_reason(
    operator, gulf, key_for
):
    kuwait, saudi = gulf
    SenderIDFactory(account=saudi, value="SHOP")
    call = key_for(operator)
    body = {"account": "automatic", "to": [KW1, SA1], "text": "Hello", "sender": "SHOP"}
    data = call("POST", URL, body).json()
    assert [(r["account_name"], r["sender"]) for r in data["routing"]] == [("Saudi line", "SHOP")]
    [refused] = [o for o in data["recipients"]["outcomes"] if o["outcome"] == "skipped"]
    assert refused["to"] == KW1
    assert refused["reason"] == (
        "no route: Route “Kuwait” matches, but none of its accounts can send it (Kuwait line: "
        "it has no sender ID “SHOP” and no default sender for routed messages)."
    )

    SenderIDFactory(account=kuwait, value="KWT")
    AccountRouting.objects.create(account=kuwait, default_sender="KWT")  # mapped from now on
    data = call("POST", URL, body).json()
    assert {r["account_name"]: r["sender"] for r in data["routing"]} == {
        "Kuwait line": "KWT",
        "Saudi line": "SHOP",
    }
    assert data["recipients"]["skipped"] == 0


def test_lists_and_opt_outs_count_as_the_send_counts_them(operator, gulf, key_for):
    staff = ContactListFactory(name="Staff", shared=True)
    staff.add([ContactFactory(phone=SA1).pk, ContactFactory(phone=KW2).pk])
    OptOutFactory(phone=KW2)
    answer = key_for(operator)(
        "POST", URL, {"account": "automatic", "lists": [staff.pk], "to": [KW1], "text": "Hi"}
    )
    assert answer.status_code == 200, answer.content
    data = answer.json()
    assert {r["account_name"]: r["recipient_count"] for r in data["routing"]} == {
        "Kuwait line": 1,
        "Saudi line": 1,
    }
    assert {"to": KW2, "outcome": "skipped", "reason": "opted out"} in data["recipients"][
        "outcomes"
    ]


def test_no_number_with_a_route_is_not_sendable_and_says_why(operator, gulf, key_for):
    data = key_for(operator)("POST", URL, {"account": "automatic", "to": [UK1], "text": "Hi"})
    data = data.json()
    assert data["routing"] == [] and data["estimated_cost"] == "0.0000"
    assert data["sendable"] is False
    assert data["problem"] == (
        "No recipient has a route that can send this message. "
        "No route matches this number and message."
    )


@pytest.mark.parametrize(
    "body, field, code",
    [
        ({"account": "automatic", "text": "Hi"}, "to", "required"),
        (
            {"account": "automatic", "text": "Hi", "to": [KW1], "recipients": 5},
            "recipients",
            "not_with_automatic",
        ),
        ({"account": "automatic", "text": "Hi", "to": ["12"]}, "to[0]", "invalid_number"),
        (
            {"account": "automatic", "text": "Hi", "to": [KW1], "lists": [99999]},
            "lists[0]",
            "does_not_exist",
        ),
    ],
)
def test_bad_input_with_automatic_is_a_clear_field_error(
    operator, gulf, key_for, body, field, code
):
    answer = key_for(operator)("POST", URL, body)
    assert answer.status_code == 400, answer.content
    [error] = answer.json()["errors"]
    assert (error["field"], error["code"]) == (field, code)


@pytest.mark.parametrize("field, value", [("to", [KW1]), ("lists", []), ("sender", "SHOP")])
def test_numbers_and_a_sender_are_only_for_automatic(operator, gulf, key_for, field, value):
    kuwait, _saudi = gulf
    answer = key_for(operator)("POST", URL, {"account": kuwait.pk, "text": "Hi", field: value})
    assert answer.status_code == 400, answer.content
    [error] = answer.json()["errors"]
    assert (error["field"], error["code"]) == (field, "only_with_automatic")


def test_a_named_account_answers_as_before_without_routing(operator, gulf, key_for):
    kuwait, _saudi = gulf
    data = key_for(operator)(
        "POST", URL, {"account": kuwait.pk, "text": "Hi", "recipients": 3}
    ).json()
    assert "routing" not in data and "recipients" not in data
    assert (data["estimated_cost"], data["max_parts"]) == ("0.0600", kuwait.max_parts)
