"""Prices per destination: the longest prefix wins, the account's own price is the default, and
the estimate, the affordability check and the recorded cost use each recipient's price."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from smsportal.messaging.models import Delivery
from smsportal.messaging.sending import ResolvedRecipients, SendRefused, prepare
from smsportal.providers.backends.base import Balance
from smsportal.routing.destinations import BadDestination, parse_destination
from smsportal.routing.models import DestinationPrice
from smsportal.routing.prices import PriceTable
from tests.factories import BalanceSnapshotFactory, ProviderAccountFactory
from tests.support.sending import create_message

pytestmark = pytest.mark.django_db

KW, KW_MOBILE, SA = "+96550000001", "+96597000001", "+966500000001"


def priced(account, **prices):
    for prefix, price in prices.items():
        DestinationPrice.objects.create(
            account=account, prefix=prefix.lstrip("p"), price_per_part=Decimal(price)
        )
    return account


def test_the_longest_prefix_wins_and_other_numbers_pay_the_default():
    account = priced(ProviderAccountFactory(price_per_segment=Decimal("0.05")), p965="0.01")
    priced(account, p96597="0.02")
    table = PriceTable.of(account)

    assert table.price_of(KW) == Decimal("0.01")
    assert table.price_of(KW_MOBILE) == Decimal("0.02")
    assert table.price_of(SA) == Decimal("0.05")
    assert table.cost([KW, KW_MOBILE, SA], 2) == Decimal("0.16")
    assert table.cost([KW, SA], {KW: 1, SA: 3}) == Decimal("0.16")


@pytest.mark.parametrize(
    ("text", "prefix", "country"),
    [("KW", "965", "KW"), ("kw", "965", "KW"), ("+965 97", "96597", ""), ("00966", "966", "")],
)
def test_destinations_are_countries_or_prefixes(text, prefix, country):
    assert parse_destination(text) == parse_destination(text)
    destination = parse_destination(text)
    assert (destination.prefix, destination.country) == (prefix, country)


@pytest.mark.parametrize("text", ["", "XX", "abc", "0965", "+1234567890123456"])
def test_a_bad_destination_says_why(text):
    with pytest.raises(BadDestination):
        parse_destination(text)


def test_prepare_costs_each_recipient_at_its_destination(account):
    account.price_per_segment = Decimal("0.05")
    account.save()
    priced(account, p965="0.01")

    draft = prepare(
        account=account, body="Hello", recipients=ResolvedRecipients(phones=[KW, SA, KW_MOBILE])
    )

    assert draft.cost == Decimal("0.07")


def test_the_affordability_check_uses_destination_prices(account, script):
    script.balance = Balance(amount=Decimal("0.06"))
    account.price_per_segment = Decimal("0.01")
    account.save()
    BalanceSnapshotFactory(account=account, amount=Decimal("0.06"))
    priced(account, p966="0.10")

    prepare(account=account, body="Hi", recipients=ResolvedRecipients(phones=[KW, KW_MOBILE]))
    with pytest.raises(SendRefused, match=r"needs 0\.11 credits"):
        prepare(account=account, body="Hi", recipients=ResolvedRecipients(phones=[KW, SA]))


def test_dispatch_records_each_deliverys_cost_at_its_destination_price(
    account, script, django_capture_on_commit_callbacks
):
    account.price_per_segment = Decimal("0.05")
    account.save()
    priced(account, p965="0.01", p96597="0.02")
    with django_capture_on_commit_callbacks(execute=True):
        message = create_message(
            account=account, body="Hello", recipients=ResolvedRecipients(phones=[KW, KW_MOBILE, SA])
        )
    costs = dict(Delivery.objects.filter(message=message).values_list("phone", "cost"))
    assert costs == {KW: Decimal("0.01"), KW_MOBILE: Decimal("0.02"), SA: Decimal("0.05")}
    message.refresh_from_db()
    assert message.actual_cost == Decimal("0.08")
    assert message.estimated_cost == Decimal("0.08")


def test_the_compose_preview_splits_the_cost_by_price(operator_client, account):
    account.price_per_segment = Decimal("0.05")
    account.save()
    priced(account, p965="0.01")
    response = operator_client.post(
        reverse("messaging:compose"),
        {
            "account": account.pk,
            "recipients": f"{KW}\n{KW_MOBILE}\n{SA}",
            "text": "Hello",
            "token": "t1",
            "action": "preview",
        },
        HTTP_HX_REQUEST="true",
    )
    text = response.content.decode()
    assert "Estimated cost: <strong>0.07</strong>" in text
    assert "2 SMS × 0.0100 + 1 SMS × 0.0500" in text


# --- the page --------------------------------------------------------------------------------


def url(account, name="routing:prices", *args):
    return reverse(name, args=[account.pk, *args])


def test_a_manager_adds_a_country_and_an_overlapping_prefix_and_the_page_shows_which_wins(
    manager_client,
):
    account = ProviderAccountFactory()
    manager_client.post(url(account), {"destination": "KW", "price": "0.01"})
    response = manager_client.post(
        url(account), {"destination": "+965 97", "price": "0.02"}, follow=True
    )

    rows = DestinationPrice.objects.filter(account=account).order_by("prefix")
    assert [(r.prefix, r.country, r.price_per_part) for r in rows] == [
        ("965", "KW", Decimal("0.01")),
        ("96597", "", Decimal("0.02")),
    ]
    page = response.content.decode()
    assert "Numbers starting +96597 use this price, not that of +965" in page


def test_a_bad_price_is_refused_with_the_reason(manager_client):
    account = ProviderAccountFactory()
    response = manager_client.post(url(account), {"destination": "KW", "price": "-1"})
    assert "A price cannot be negative." in response.content.decode()
    response = manager_client.post(url(account), {"destination": "Kuwait", "price": "1"})
    assert "neither a country code" in response.content.decode()
    assert not DestinationPrice.objects.exists()


def test_an_operator_reads_prices_but_cannot_change_them(operator_client):
    account = priced(ProviderAccountFactory(), p965="0.01")
    assert operator_client.get(url(account)).status_code == 200
    assert (
        operator_client.post(url(account), {"destination": "SA", "price": "1"}).status_code == 403
    )
    price = DestinationPrice.objects.get()
    assert operator_client.post(url(account, "routing:delete_price", price.pk)).status_code == 403
    assert DestinationPrice.objects.count() == 1


def test_a_manager_removes_a_price(manager_client):
    account = priced(ProviderAccountFactory(), p965="0.01")
    price = DestinationPrice.objects.get()
    manager_client.post(url(account, "routing:delete_price", price.pk))
    assert not DestinationPrice.objects.exists()
