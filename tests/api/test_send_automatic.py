"""POST /api/v1/messages with account "automatic": the routes choose each recipient's account,
as Compose's "Automatic" does; one message per account and route, all via the API key; a
recipient without a route is skipped with the reason; no route at all is a 422."""

from __future__ import annotations

from decimal import Decimal

import pytest

from smsportal.api.models import ApiMessage
from smsportal.messaging.models import Delivery, Message
from smsportal.routing.models import Route, RouteAccount
from tests.factories import ProviderAccountFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/messages"
KW, SA, UK = "+96597119440", "+966500000001", "+447911123456"


@pytest.fixture
def routes(account):
    saudi = ProviderAccountFactory(
        name="Saudi line", kind="kwtsms", price_per_segment=Decimal("0.01")
    )
    for n, (name, where, target) in enumerate([("Kuwait", "KW", account), ("Saudi", "SA", saudi)]):
        route = Route.objects.create(name=name, destinations=where, position=n + 1)
        RouteAccount.objects.create(route=route, account=target, position=0)
    return account, saudi


def test_automatic_sends_each_recipient_through_its_route(operator, routes, key_for):
    kuwait, saudi = routes
    call = key_for(operator, name="Billing")
    answer = call("POST", URL, {"account": "automatic", "to": [KW, SA, UK], "text": "Hello"})
    assert answer.status_code == 202, answer.content
    data = answer.json()
    made = {m.account_id: m for m in Message.objects.all()}
    assert set(made) == {kuwait.pk, saudi.pk}
    assert {m["account"] for m in data["messages"]} == {kuwait.pk, saudi.pk}
    assert data["message"]["id"] == data["messages"][0]["id"]
    assert answer["Location"] == f"/api/v1/messages/{data['message']['id']}"
    assert {m["via_api"] for m in data["messages"]} == {"Billing"}
    assert ApiMessage.objects.count() == 2
    assert (data["recipients"]["queued"], data["recipients"]["skipped"]) == (2, 1)
    [line] = [o for o in data["recipients"]["outcomes"] if o["outcome"] == "skipped"]
    assert line["to"] == UK and line["reason"].startswith("no route")
    assert Delivery.objects.get(phone=KW).account_id == kuwait.pk
    assert Delivery.objects.get(phone=SA).account_id == saudi.pk
    assert Message.objects.get(account=saudi).route.name == "Saudi"


def test_automatic_without_any_route_for_the_numbers_is_refused(operator, routes, key_for):
    call = key_for(operator)
    answer = call("POST", URL, {"account": "automatic", "to": [UK], "text": "Hello"})
    assert answer.status_code == 422, answer.content
    assert answer.json()["code"] == "no_route"
    assert not Message.objects.exists()


@pytest.mark.parametrize("value", ["Automatic", "auto", "", None, "1"])
def test_any_other_word_than_automatic_is_a_field_error(operator, routes, key_for, value):
    call = key_for(operator)
    answer = call("POST", URL, {"account": value, "to": [KW], "text": "Hello"})
    assert answer.status_code == 400, answer.content
    [error] = answer.json()["errors"]
    assert error["field"] == "account"
    if value:  # ("" counts as no value: "may not be null")
        assert (
            error["detail"] == 'An account id (a whole number) or "automatic" is required, not str.'
        )

    assert not Message.objects.exists()


def test_a_named_account_answers_as_before_without_messages(operator, routes, key_for):
    kuwait, _ = routes
    call = key_for(operator)
    answer = call("POST", URL, {"account": kuwait.pk, "to": [SA], "text": "Hello"})
    assert answer.status_code == 202, answer.content
    assert "messages" not in answer.json()
    assert Message.objects.get().account == kuwait  # no routing when an account is named
