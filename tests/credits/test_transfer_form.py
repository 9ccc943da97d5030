"""The transfer form offers known customers and refuses, with the reason, what the provider
would refuse; the confirmation offers no Transfer button for a transfer it says will fail."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from smsportal.credits.demo import create_demo_customers
from smsportal.credits.models import (
    BalanceSnapshot,
    CreditTransfer,
    TransferCustomer,
    TransferOutcome,
)
from smsportal.credits.transfers import PORTAL_CODE
from tests.factories import BalanceSnapshotFactory, CreditTransferFactory, ProviderAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def isms(provider):
    account = ProviderAccountFactory(kind="isms", name="ISMS main")
    BalanceSnapshotFactory(account=account, amount=Decimal("100"))
    return account


def _post(client, account, amount, customer="reseller7"):
    page = client.get(reverse("credits:transfer_create")).content.decode()
    token = re.search(r'name="token" value="([0-9a-f-]+)"', page).group(1)
    return client.post(
        reverse("credits:transfer_create"),
        {"account": account.pk, "customer": customer, "amount": amount, "token": token},
    )


def test_a_fraction_is_refused_where_the_provider_moves_whole_credits(
    manager_client, isms, provider
):
    provider.backend_class.transfer_step = Decimal("1")

    html = _post(manager_client, isms, "10.5").content.decode()
    small = _post(manager_client, isms, "0.5").content.decode()

    assert "transfers whole credits only: enter 10 or 11." in html
    assert "enter 1 or more." in small
    assert not CreditTransfer.objects.exists()


def test_more_than_the_balance_is_refused_in_the_form(manager_client, isms):
    html = _post(manager_client, isms, "150").content.decode()

    assert "ISMS main has 100.00 credits available" in html
    assert "this transfer needs 150.00." in html
    assert not CreditTransfer.objects.exists()


def test_the_form_offers_known_customers(manager_client, isms):
    TransferCustomer.objects.create(account=isms, username="branch-3", label="Branch three")

    html = manager_client.get(reverse("credits:transfer_create")).content.decode()

    assert 'list="known-customers"' in html
    assert '<option value="branch-3">Branch three · ISMS main</option>' in html


def test_a_customer_that_received_credits_is_offered_next_time(manager_client, isms, provider):
    transfer = CreditTransferFactory(account=isms, customer="new-reseller", amount=Decimal("5"))

    manager_client.post(reverse("credits:transfer_execute", args=[transfer.pk]))

    assert TransferCustomer.objects.filter(account=isms, username="new-reseller").exists()


def test_no_transfer_button_for_a_transfer_the_page_says_will_be_refused(
    manager_client, isms, provider
):
    transfer = CreditTransferFactory(account=isms, amount=Decimal("60"))
    BalanceSnapshotFactory(account=isms, amount=Decimal("40"))  # spent since the form

    html = manager_client.get(transfer.get_absolute_url()).content.decode()

    assert "ISMS main has 40.00 credits available; this transfer needs 60.00" in html
    assert 'id="confirm-transfer"' not in html
    assert "Make another transfer" in html


def test_an_affordable_transfer_offers_the_button(manager_client, isms, provider):
    transfer = CreditTransferFactory(account=isms, amount=Decimal("60"))

    html = manager_client.get(transfer.get_absolute_url()).content.decode()

    assert 'id="will-be-refused"' not in html
    assert 'id="confirm-transfer"' in html
    assert "as of just now" in html  # not "as of now", nor "0 minutes ago"


def test_a_refusal_by_the_portal_is_not_shown_as_a_provider_code(manager_client, isms):
    transfer = CreditTransferFactory(
        account=isms,
        amount=Decimal("500"),
        outcome=TransferOutcome.REFUSED,
        provider_code=PORTAL_CODE,
        provider_text="Not sent: not enough credits.",
    )

    html = manager_client.get(transfer.get_absolute_url()).content.decode()

    assert "Provider's code" not in html
    assert "the portal, before asking" in html


def test_the_demo_transfers_to_a_sandbox_customer_out_of_the_box(
    client, manager, sandbox, sandbox_account
):
    account = sandbox_account("isms", name="ISMS (sandbox)")
    client.force_login(manager)
    create_demo_customers()
    BalanceSnapshot.objects.refresh(account)

    form = client.get(reverse("credits:transfer_create")).content.decode()
    assert '<option value="demo-customer-1">' in form
    created = _post(client, account, "25", customer="demo-customer-1")
    transfer = CreditTransfer.objects.get()
    assert created.url == transfer.get_absolute_url()
    assert 'id="confirm-transfer"' in client.get(created.url).content.decode()

    client.post(reverse("credits:transfer_execute", args=[transfer.pk]))

    transfer.refresh_from_db()
    assert transfer.outcome == TransferOutcome.DONE, transfer.provider_text
    assert sandbox.world.account("isms", "demo-customer-1").credit == Decimal("25")
