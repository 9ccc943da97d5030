"""Failover sends through the next account only what a send there directly would be allowed:
its balance must cover the deliveries moved to it (`sending.prepare`'s affordability rule), each
recipient's own personalised text must fit its part limit, and a sender ID that account can no
longer send from (retired between the move and the send) stops the send there, never letting the
provider's default sender go out in its place."""

# ruff: noqa: F811 (the tests take the fixtures `accounts` and `provider` of the routing tests)

from __future__ import annotations

from decimal import Decimal

import pytest

from smsportal.contacts.models import Contact
from smsportal.messaging import failover, routed, sending
from smsportal.messaging.models import Delivery, Message
from smsportal.messaging.sending import ResolvedRecipients, SendRefused
from smsportal.providers.backends import base
from smsportal.senders.models import SenderID
from smsportal.sms.status import DeliveryStatus
from tests.conftest import general_department
from tests.factories import BalanceSnapshotFactory, SenderIDFactory
from tests.routing.test_failover import accounts, provider, sent_through  # noqa: F401

pytestmark = pytest.mark.django_db

PHONE = "+96550000001"


def send(django_capture_on_commit_callbacks, body="Hello", **options) -> Message:
    options.setdefault("recipients", ResolvedRecipients(phones=[PHONE]))
    with django_capture_on_commit_callbacks(execute=True):
        draft = routed.prepare_routed(body=body, department=general_department(), **options)
        [message] = routed.send_routed(draft)
    return message


def test_an_account_whose_balance_cannot_pay_is_passed_over(
    accounts, provider, django_capture_on_commit_callbacks
):
    alpha, bravo, charlie = accounts
    provider.balance = base.Balance(amount=Decimal("0"))  # the accounts report balances
    BalanceSnapshotFactory(account=alpha, amount=Decimal("100"))
    BalanceSnapshotFactory(account=bravo, amount=Decimal("0"))
    BalanceSnapshotFactory(account=charlie, amount=Decimal("100"))
    with pytest.raises(SendRefused) as direct:  # what a send to Bravo itself meets
        sending.prepare(
            account=bravo,
            body="Hello",
            department=general_department(),
            recipients=ResolvedRecipients(phones=[PHONE]),
        )
    assert direct.value.code == "unaffordable"
    provider.down[alpha.pk] = base.InsufficientCredit("no credit", code="E")

    message = send(django_capture_on_commit_callbacks)

    row = Delivery.objects.get(message=message)
    assert (row.status, row.account_id) == (DeliveryStatus.SUBMITTED, charlie.pk)
    assert not any(name == "Bravo" for name, _ in sent_through(provider))


def test_when_no_next_account_can_pay_the_delivery_stays_failed_saying_why(
    accounts, provider, django_capture_on_commit_callbacks
):
    alpha, bravo, charlie = accounts
    provider.balance = base.Balance(amount=Decimal("0"))
    BalanceSnapshotFactory(account=alpha, amount=Decimal("100"))
    BalanceSnapshotFactory(account=bravo, amount=Decimal("0"))
    BalanceSnapshotFactory(account=charlie, amount=Decimal("0"))
    provider.down[alpha.pk] = base.InsufficientCredit("no credit", code="E")

    message = send(django_capture_on_commit_callbacks)

    row = Delivery.objects.get(message=message)
    assert (row.status, row.account_id) == (DeliveryStatus.FAILED, alpha.pk)
    assert {name for name, _ in sent_through(provider)} == {"Alpha"}
    why = row.events.order_by("id").last().description
    assert "not moved to another account" in why
    assert "Bravo: This send needs 0.03 credits" in why and "Charlie: This send needs" in why


def test_a_personal_text_goes_only_to_an_account_allowing_its_parts(
    accounts, provider, django_capture_on_commit_callbacks
):
    alpha, bravo, charlie = accounts
    alpha.max_parts = 5
    alpha.save()
    bravo.max_parts = 1
    bravo.save()
    charlie.max_parts = 2
    charlie.save()
    contact = Contact.objects.create(phone=PHONE, name="A" * 180, department=general_department())
    recipients = ResolvedRecipients(phones=[PHONE], contact_ids={PHONE: contact.pk})
    provider.down[alpha.pk] = base.AuthenticationError("login refused", code="1101")

    # The template is short; the recipient's own text takes two parts.
    message = send(
        django_capture_on_commit_callbacks,
        body="Hi {name|friend}",
        personal=True,
        recipients=recipients,
    )

    row = Delivery.objects.get(message=message)
    assert (row.status, row.account_id, row.segments) == ("submitted", charlie.pk, 2)
    assert sent_through(provider) == [("Alpha", PHONE), ("Charlie", PHONE)]


def test_a_personal_text_no_next_account_allows_stays_failed(
    accounts, provider, django_capture_on_commit_callbacks
):
    alpha, bravo, charlie = accounts
    alpha.max_parts = 5
    alpha.save()
    for account in (bravo, charlie):
        account.max_parts = 1
        account.save()
    contact = Contact.objects.create(phone=PHONE, name="A" * 180, department=general_department())
    provider.down[alpha.pk] = base.AuthenticationError("login refused", code="1101")

    message = send(
        django_capture_on_commit_callbacks,
        body="Hi {name|friend}",
        personal=True,
        recipients=ResolvedRecipients(phones=[PHONE], contact_ids={PHONE: contact.pk}),
    )

    row = Delivery.objects.get(message=message)
    assert (row.status, row.account_id) == (DeliveryStatus.FAILED, alpha.pk)
    assert {name for name, _ in sent_through(provider)} == {"Alpha"}


@pytest.fixture
def brand(accounts):
    for account in accounts:
        SenderIDFactory(account=account, value="Brand")


@pytest.fixture
def spy_senders(provider, monkeypatch, accounts):
    """(account, sender ID, numbers) of every request."""
    sent = []
    backend = type(accounts[0].backend)
    original = backend.send

    def send(self, message, recipients):
        sent.append((self.account.name, message.sender, [r.phone for r in recipients]))
        return original(self, message, recipients)

    monkeypatch.setattr(backend, "send", send)
    return sent


def retire_after_the_move(monkeypatch, account):
    """A Manager retires `account`'s "Brand" between the move to it and the send through it."""
    move = failover.move_not_sent

    def move_then_retire(message, results):
        moved = move(message, results)
        SenderID.objects.filter(account=account).update(status="retired")
        return moved

    monkeypatch.setattr(failover, "move_not_sent", move_then_retire)


def test_a_sender_retired_after_the_move_is_never_replaced_by_the_default(
    accounts, provider, brand, spy_senders, monkeypatch, django_capture_on_commit_callbacks
):
    alpha, bravo, charlie = accounts
    retire_after_the_move(monkeypatch, bravo)
    provider.down[alpha.pk] = base.AuthenticationError("login refused", code="1101")

    message = send(django_capture_on_commit_callbacks, sender="Brand")

    # Refused at Bravo without a request, then on to Charlie, from the sender chosen.
    assert spy_senders == [("Alpha", "Brand", [PHONE]), ("Charlie", "Brand", [PHONE])]
    row = Delivery.objects.get(message=message)
    assert (row.status, row.account_id) == (DeliveryStatus.SUBMITTED, charlie.pk)
    history = list(row.events.order_by("id").values_list("to_status", "description"))
    refused = [text for status, text in history if status == "failed"][-1]
    assert refused.startswith("Not sent: it has no sender ID “Brand”")
    assert "Not sent through Bravo" in history[-2][1] and "moved to Charlie" in history[-2][1]
    message.refresh_from_db()
    assert message.status == Message.Status.DONE


def test_a_sender_retired_on_the_last_account_fails_the_delivery_unsent(
    accounts, provider, brand, spy_senders, monkeypatch, django_capture_on_commit_callbacks
):
    alpha, bravo, charlie = accounts
    SenderID.objects.filter(account=charlie).update(status="retired")
    retire_after_the_move(monkeypatch, bravo)
    provider.down[alpha.pk] = base.AuthenticationError("login refused", code="1101")

    message = send(django_capture_on_commit_callbacks, sender="Brand")

    assert spy_senders == [("Alpha", "Brand", [PHONE])]
    row = Delivery.objects.get(message=message)
    assert (row.status, row.account_id, row.error_code) == ("failed", bravo.pk, "cannot-carry")
    assert row.error_text.startswith("Not sent: it has no sender ID “Brand”")
    message.refresh_from_db()
    assert message.status == Message.Status.DONE
