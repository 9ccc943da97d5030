from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, timedelta
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from smsportal.credits.models import BalanceSnapshot, CreditTransfer, TransferOutcome
from smsportal.providers.backends.base import TransientError
from tests.factories import (
    BalanceSnapshotFactory,
    CreditTransferFactory,
    ProviderAccountFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def isms(provider):
    account = ProviderAccountFactory(kind="isms", name="ISMS main")
    BalanceSnapshotFactory(account=account, amount=Decimal("100"))
    return account


def form_token(response) -> str:
    return re.search(r'name="token" value="([0-9a-f-]+)"', response.content.decode()).group(1)


def test_the_credits_page_shows_balances_chart_data_and_figures(operator_client, isms):
    BalanceSnapshotFactory(account=isms, amount=Decimal("80"), taken_at=timezone.now())

    response = operator_client.get(reverse("credits:overview"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "ISMS main" in html and "80.00" in html
    chart = json.loads(re.search(r'id="balance-history"[^>]*>(.*?)</script>', html, re.S).group(1))
    data = chart["series"]
    assert data[0]["account"] == "ISMS main"
    assert [p[1] for p in data[0]["points"]] == [80.0]  # the lowest of the hour
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    assert data[0]["points"][0][0] == int(hour.timestamp() * 1000)
    assert 'id="balance-figures"' in html
    assert "Transfer credits" not in html  # an Operator may not transfer
    assert "<script>" not in html  # the chart's script is a static file (Content-Security-Policy)
    assert "js/credits.js" in html


@pytest.mark.parametrize("days", [7, 30, 90])
def test_the_time_axis_spans_the_whole_period_for_one_reading_or_many(days):
    from smsportal.credits.charts import time_axis

    now = timezone.now()
    axis = time_axis(now - timedelta(days=days), now, days)

    assert axis["max"] - axis["min"] == days * 86_400_000
    assert 5 <= len(axis["ticks"]) <= 8
    assert all(axis["min"] <= ms <= axis["max"] for ms, _ in axis["ticks"])
    first = timezone.localtime(timezone.datetime.fromtimestamp(axis["ticks"][0][0] / 1000, tz=UTC))
    assert (first.hour, first.minute) == (0, 0)  # ticks at local midnights


def test_a_single_reading_is_drawn_on_the_full_period(operator_client, isms):
    html = operator_client.get(reverse("credits:overview"), {"days": "30"}).content.decode()

    chart = json.loads(re.search(r'id="balance-history"[^>]*>(.*?)</script>', html, re.S).group(1))
    assert len(chart["series"][0]["points"]) == 1
    assert chart["axis"]["max"] - chart["axis"]["min"] == 30 * 86_400_000


def test_no_reading_shows_an_empty_chart_that_says_why(operator_client, provider):
    ProviderAccountFactory(kind="isms", name="ISMS main")

    html = operator_client.get(reverse("credits:overview")).content.decode()

    assert 'id="balance-chart-empty"' in html
    assert "No balance recorded in the last 7 days." in html
    assert "chart.umd.min.js" not in html


@pytest.mark.parametrize("days", ["30", "90", "junk"])
def test_the_chart_period_can_be_chosen(operator_client, isms, days):
    taken = timezone.now() - timedelta(days=20)
    BalanceSnapshotFactory(account=isms, taken_at=taken)

    response = operator_client.get(reverse("credits:overview"), {"days": days})

    assert response.status_code == 200
    shown = taken.strftime("<td>%-d %b %Y</td>")
    assert (shown in response.content.decode()) == (days != "junk")  # junk means 7 days


def test_an_empty_credits_page_explains_itself(operator_client, provider):
    html = operator_client.get(reverse("credits:overview")).content.decode()
    assert "No balance recorded" in html and "No transfers yet" in html


def test_the_balance_panel_shows_age_and_a_low_balance_warning(rf, provider):
    account = ProviderAccountFactory(name="Low one", low_balance_threshold=Decimal("50"))
    BalanceSnapshotFactory(
        account=account, amount=Decimal("20"), taken_at=timezone.now() - timedelta(minutes=3)
    )
    ProviderAccountFactory(name="Never asked")

    html = Template("{% load credits %}{% balance_panel %}").render(Context({}))

    assert "3\xa0minutes ago" in html
    assert "Low: below 50.00" in html
    assert "not known yet" in html


def test_the_balance_panel_for_one_account(provider):
    account = ProviderAccountFactory(name="Only me")
    ProviderAccountFactory(name="Not me")
    html = Template("{% load credits %}{% balance_panel account %}").render(
        Context({"account": account})
    )
    assert "Only me" in html and "Not me" not in html


def test_a_manager_refreshes_balances_and_htmx_gets_the_panel(manager_client, isms, provider):
    provider.balance = Decimal("42")

    response = manager_client.post(reverse("credits:refresh"), headers={"HX-Request": "true"})

    assert 'id="balances"' in response.content.decode()
    assert "42.00" in response.content.decode()
    assert BalanceSnapshot.objects.filter(account=isms).first().amount == Decimal("42")


def test_a_failed_refresh_is_reported(manager_client, isms, provider):
    provider.balance_error = TransientError("ISMS did not answer.")
    response = manager_client.post(reverse("credits:refresh"), follow=True)
    assert "not refreshed: ISMS did not answer." in response.content.decode()


def test_the_panel_endpoint_is_for_htmx_and_otherwise_leads_to_the_page(operator_client, isms):
    assert operator_client.get(reverse("credits:balances")).url == reverse("credits:overview")
    response = operator_client.get(reverse("credits:balances"), headers={"HX-Request": "true"})
    assert "ISMS main" in response.content.decode()


def test_a_manager_transfers_through_form_confirmation_and_execution(
    manager_client, isms, provider
):
    token = form_token(manager_client.get(reverse("credits:transfer_create")))
    provider.balance = Decimal("95")  # the form step takes a fresh balance

    response = manager_client.post(
        reverse("credits:transfer_create"),
        {"account": isms.pk, "customer": "reseller7", "amount": "25", "token": token},
    )

    transfer = CreditTransfer.objects.get()
    assert response.url == transfer.get_absolute_url()
    assert transfer.outcome == TransferOutcome.PENDING
    confirmation = manager_client.get(response.url).content.decode()
    assert re.search(r'id="balance-before"><span class="font-monospace">95\.00<', confirmation)
    assert re.search(r'id="balance-after">70\.00', confirmation)
    assert "transfer" not in provider.calls  # nothing moves before the confirmation

    result = manager_client.post(
        reverse("credits:transfer_execute", args=[transfer.pk]), follow=True
    )

    transfer.refresh_from_db()
    assert transfer.outcome == TransferOutcome.DONE
    assert "25.00 credits transferred to reseller7" in result.content.decode()
    assert provider.transfers == [("reseller7", Decimal("25"), transfer.reference)]


def test_submitting_the_same_form_twice_makes_one_transfer(manager_client, isms, provider):
    token = form_token(manager_client.get(reverse("credits:transfer_create")))
    data = {"account": isms.pk, "customer": "c1", "amount": "5", "token": token}

    first = manager_client.post(reverse("credits:transfer_create"), data)
    second = manager_client.post(reverse("credits:transfer_create"), data)

    assert first.url == second.url
    assert CreditTransfer.objects.count() == 1


def test_confirming_twice_transfers_once(manager_client, isms, provider):
    transfer = CreditTransferFactory(account=isms, amount=Decimal("5"))
    url = reverse("credits:transfer_execute", args=[transfer.pk])

    manager_client.post(url)
    again = manager_client.post(url, follow=True)

    assert provider.calls.count("transfer") == 1
    assert "credits were transferred" in again.content.decode()


def test_the_confirmation_warns_of_the_same_transfer_made_from_another_tab(
    manager_client, isms, provider
):
    earlier = CreditTransferFactory(account=isms, customer="c1", amount=Decimal("5"))
    earlier.execute(UserFactory())
    second = CreditTransferFactory(account=isms, customer="c1", amount=Decimal("5"))

    html = manager_client.get(second.get_absolute_url()).content.decode()

    assert "The same transfer" in html and earlier.reference in html


@pytest.mark.parametrize(
    "language, said",
    [("en", "as of 5 minutes ago"), ("ar", "آخر تحديث منذ 5 دقائق")],
)
def test_the_confirmation_says_how_old_the_balance_is_in_the_readers_words(
    manager_client, manager, provider, language, said
):
    """The age comes from the `ago` filter, which in Arabic already says "منذ" (ago): "as of"
    translated word for word made it "حتى منذ 5 دقائق" (until ago 5 minutes)."""
    from smsportal.core.models import Preference

    Preference.objects.update_or_create(user=manager, defaults={"language": language})
    account = ProviderAccountFactory(kind="isms", name="ISMS main")
    BalanceSnapshotFactory(
        account=account, amount=Decimal("100"), taken_at=timezone.now() - timedelta(minutes=5)
    )
    transfer = CreditTransferFactory(account=account, amount=Decimal("5"))

    html = manager_client.get(transfer.get_absolute_url()).content.decode()

    balance = re.search(r'id="balance-before">(.*?)</dd>', html, re.S).group(1)
    assert said in re.sub(r"<[^>]+>", "", balance).replace("\xa0", " ")
    # Only the figure is in the typewriter font: the words are in the page's.
    assert balance.startswith('<span class="font-monospace">100.00</span> <span class="small')
    assert "حتى منذ" not in html


def test_the_form_refuses_bad_input_and_keeps_it(manager_client, isms):
    response = manager_client.post(
        reverse("credits:transfer_create"),
        {"account": isms.pk, "customer": "two words", "amount": "-3", "token": "not-a-uuid"},
    )
    html = response.content.decode()
    assert "A username has no spaces." in html
    assert "Enter an amount greater than zero." in html
    assert "greater than or equal to" not in html  # never the field's bare lower bound
    assert 'value="two words"' in html
    assert not CreditTransfer.objects.exists()


@pytest.mark.parametrize(
    "amount, error",
    [
        ("0", "Enter an amount greater than zero."),
        ("-0.5", "Enter an amount greater than zero."),
        ("0.00001", "Ensure that there are no more than 4 decimal places."),  # not "zero"
    ],
)
def test_an_amount_of_nothing_or_less_says_so_in_plain_words(manager_client, isms, amount, error):
    response = manager_client.post(
        reverse("credits:transfer_create"),
        {"account": isms.pk, "customer": "c1", "amount": amount, "token": str(uuid.uuid4())},
    )

    errors = response.context["form"].errors["amount"]
    assert errors == [error]
    assert not CreditTransfer.objects.exists()


def test_only_accounts_that_can_transfer_are_offered(manager_client, provider):
    provider.set_capabilities(balance=True, transfer=False)
    ProviderAccountFactory(name="KwtSMS one")
    html = manager_client.get(reverse("credits:transfer_create")).content.decode()
    assert "No account can transfer credits" in html


def test_an_unknown_outcome_offers_a_retry_with_the_same_reference(manager_client, isms, provider):
    provider.lose_answer = TransientError("No answer in 30 seconds.")
    transfer = CreditTransferFactory(account=isms, amount=Decimal("5"))

    response = manager_client.post(
        reverse("credits:transfer_execute", args=[transfer.pk]), follow=True
    )

    html = response.content.decode()
    assert "Outcome unknown" in html
    assert "Retry with the same reference" in html


def test_a_refused_transfer_shows_the_reason(manager_client, isms, provider):
    transfer = CreditTransferFactory(account=isms, amount=Decimal("500"))
    response = manager_client.post(
        reverse("credits:transfer_execute", args=[transfer.pk]), follow=True
    )
    assert "Transfer refused: Not sent: ISMS main has 100.00 credits available" in (
        response.content.decode()
    )


def test_the_ledger_lists_transfers(operator_client, isms):
    transfer = CreditTransferFactory(account=isms, customer="listed-customer")
    html = operator_client.get(reverse("credits:transfer_list")).content.decode()
    assert "listed-customer" in html and transfer.reference in html


@pytest.mark.parametrize(
    ("method", "name", "needs_pk"),
    [
        ("post", "credits:refresh", False),
        ("get", "credits:transfer_create", False),
        ("post", "credits:transfer_create", False),
        ("post", "credits:transfer_execute", True),
    ],
)
def test_operators_cannot_refresh_or_transfer(
    operator_client, isms, provider, method, name, needs_pk
):
    transfer = CreditTransferFactory(account=isms)
    url = reverse(name, args=[transfer.pk] if needs_pk else [])

    response = getattr(operator_client, method)(url)

    assert response.status_code == 403
    assert "transfer" not in provider.calls and "balance" not in provider.calls


def test_operators_see_a_pending_transfer_without_the_confirm_button(operator_client, isms):
    transfer = CreditTransferFactory(account=isms)
    html = operator_client.get(transfer.get_absolute_url()).content.decode()
    assert "Confirm the transfer" in html and 'id="confirm-transfer"' not in html


@pytest.mark.parametrize("name", ["credits:overview", "credits:transfer_list", "credits:balances"])
def test_outsiders_see_nothing(client, outsider, name):
    client.force_login(outsider)
    assert client.get(reverse(name)).status_code == 403


def test_the_admin_shows_the_ledger_read_only(client, provider):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    transfer = CreditTransferFactory(account=ProviderAccountFactory(kind="isms"))
    BalanceSnapshotFactory(account=transfer.account)

    assert client.get(reverse("admin:credits_credittransfer_changelist")).status_code == 200
    detail = client.get(reverse("admin:credits_credittransfer_change", args=[transfer.pk]))
    assert detail.status_code == 200
    assert 'type="submit"' not in detail.content.decode().split('id="content-main"')[1]
    assert client.get(reverse("admin:credits_credittransfer_add")).status_code == 403
    assert (
        client.post(
            reverse("admin:credits_credittransfer_change", args=[transfer.pk]), {"amount": "1"}
        ).status_code
        == 403
    )
    assert client.get(reverse("admin:credits_balancesnapshot_changelist")).status_code == 200
    assert client.get(reverse("admin:senders_senderid_changelist")).status_code == 200
