"""Refresh on a balance card answers on the page where it was pressed: with htmx the card comes
back in place (one account's card stays one account's card), failures on their account's row,
and nothing is left behind to show up as a stale banner on the next page."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from smsportal.credits.models import BalanceSnapshot
from smsportal.providers.backends.base import TransientError
from tests.factories import BalanceSnapshotFactory, ProviderAccountFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true", "HX-Current-URL": "http://testserver/messages/compose/"}


@pytest.fixture
def two(provider):
    first = ProviderAccountFactory(kind="isms", name="First account")
    second = ProviderAccountFactory(kind="isms", name="Second account")
    BalanceSnapshotFactory(account=first, amount=Decimal("5"))
    BalanceSnapshotFactory(account=second, amount=Decimal("6"))
    return first, second


def test_refreshing_one_account_returns_that_accounts_card_only(manager_client, two, provider):
    first, second = two
    provider.balance = Decimal("12345.5")

    response = manager_client.post(reverse("credits:refresh"), {"account": second.pk}, headers=HTMX)

    html = response.content.decode()
    assert "<html" not in html
    assert "Second account" in html and "First account" not in html
    assert f'name="account" value="{second.pk}"' in html  # the card stays this account's card
    assert "12,345.50" in html  # thousands separators, like every other amount
    assert "1 balance refreshed just now" in html
    assert BalanceSnapshot.objects.filter(account=first).get().amount == Decimal("5")


def test_an_htmx_refresh_leaves_no_banner_for_the_next_page(manager_client, two, provider):
    provider.balance = Decimal("42")
    manager_client.post(reverse("credits:refresh"), headers=HTMX)

    next_page = manager_client.get(reverse("dashboard")).content.decode()

    assert "Balance of" not in next_page
    assert 'class="alert' not in next_page


def test_a_failed_htmx_refresh_is_shown_on_its_row(manager_client, two, provider):
    first, _ = two
    provider.balance_error = TransientError("ISMS did not answer.")

    response = manager_client.post(reverse("credits:refresh"), {"account": first.pk}, headers=HTMX)

    html = response.content.decode()
    assert "Not refreshed: ISMS did not answer." in html
    assert "refreshed just now" not in html
    assert 'class="alert' not in manager_client.get(reverse("dashboard")).content.decode()


def test_without_javascript_refresh_returns_to_the_page_it_was_pressed_on(
    manager_client, two, provider
):
    provider.balance = Decimal("1234567")

    response = manager_client.post(reverse("credits:refresh"), {"next": "/messages/compose/"})

    assert response.url == "/messages/compose/"
    banners = manager_client.get(response.url).content.decode()
    assert "Balance of First account: 1,234,567.00" in banners


def test_refresh_never_redirects_off_the_site(manager_client, two, provider):
    response = manager_client.post(reverse("credits:refresh"), {"next": "https://evil.example/"})
    assert response.url == reverse("credits:overview")


def test_the_compose_card_follows_the_chosen_account(operator_client, two):
    _, second = two

    response = operator_client.get(
        reverse("credits:balances"), {"account": second.pk}, headers=HTMX
    )

    html = response.content.decode()
    assert "Second account" in html and "First account" not in html
    assert ">Balance<" in html.replace("</i> ", ">")


@pytest.mark.parametrize(
    ("path", "says"),
    [
        (reverse("dashboard"), "a Manager can refresh them at once"),
        (reverse("credits:overview"), "a Manager can refresh them at once"),
        (reverse("messaging:compose"), "a Manager can refresh it at once"),
    ],
)
def test_operators_are_told_who_can_refresh_and_managers_get_the_button(
    client, operator, manager, two, path, says
):
    client.force_login(operator)
    seen_by_operator = client.get(path).content.decode()
    client.force_login(manager)
    seen_by_manager = client.get(path).content.decode()

    assert 'id="balances-refresh-hint"' in seen_by_operator and says in seen_by_operator
    assert 'id="balances-refresh"' not in seen_by_operator
    assert 'id="balances-refresh"' in seen_by_manager
    assert 'id="balances-refresh-hint"' not in seen_by_manager
