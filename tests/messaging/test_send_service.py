"""The send service: `prepare` runs every check once and returns a frozen, keyword-only Draft;
`send` consumes it. What compose, retry, the API and the rest rely on."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from smsportal.contacts.models import OptOut
from smsportal.messaging import sending
from smsportal.messaging.models import Message
from smsportal.messaging.sending import Draft, ResolvedRecipients, SendRefused, prepare, send
from smsportal.providers.backends.base import Balance
from smsportal.sms.status import DeliveryStatus
from tests.factories import BalanceSnapshotFactory

pytestmark = pytest.mark.django_db

A, B = "+96550000001", "+96550000002"


def draft_for(account, *phones, **kwargs) -> Draft:
    return prepare(
        account=account, body="Hello", recipients=ResolvedRecipients(phones=list(phones)), **kwargs
    )


def test_a_draft_is_a_frozen_keyword_only_value_that_send_consumes(account):
    draft = draft_for(account, A, B)

    assert (draft.recipient_count, draft.segments, draft.cost) == (2, 1, Decimal("0.02"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        draft.body = "Changed"  # type: ignore[misc]
    with pytest.raises(TypeError):
        Draft(account, "Hello")  # type: ignore[misc]
    assert not Message.objects.exists()  # preparing creates nothing

    message = send(draft)
    assert (message.recipient_count, message.status) == (2, Message.Status.DRAFT)
    assert sorted(message.deliveries.values_list("phone", flat=True)) == [A, B]


def test_numbers_that_opted_out_are_skipped_and_none_left_is_refused(account):
    OptOut.objects.create(phone=B)

    message = send(draft_for(account, A, B))
    skipped = message.deliveries.get(status=DeliveryStatus.SKIPPED)
    assert (skipped.phone, skipped.error_text, message.recipient_count) == (B, "opted out", 1)

    with pytest.raises(SendRefused, match="Every recipient has opted out"):
        draft_for(account, B)


def test_an_inactive_account_is_refused(account):
    account.is_active = False
    account.save()
    with pytest.raises(SendRefused, match="is not active"):
        draft_for(account, A)


def test_the_balance_is_checked_for_every_send(account, script):
    script.balance = Balance(amount=Decimal("1"))  # the provider reports balances
    BalanceSnapshotFactory(account=account, amount=Decimal("0.01"))
    with pytest.raises(SendRefused, match=r"needs 0\.02 credits"):
        draft_for(account, A, B)
    assert draft_for(account, A).cost == Decimal("0.01")


def test_a_used_idempotency_key_prepares_the_existing_message_and_sends_nothing_new(account):
    first = send(draft_for(account, A, idempotency_key="form-token"))
    OptOut.objects.create(phone=A)  # would be refused now: the key is looked at first

    again = draft_for(account, A, idempotency_key="form-token")

    assert again.existing == first and again.recipient_count == 1
    assert send(again) == first
    assert Message.objects.count() == 1


def test_the_service_has_no_second_entrance():
    assert not hasattr(sending, "create_message") and not hasattr(sending, "check_sendable")


def test_what_the_caller_records_with_also_commits_or_rolls_back_with_the_message(account):
    from smsportal.messaging.models import DailyDeliveryStats, Delivery

    seen = []
    message = send(draft_for(account, A), also=lambda made: seen.append(made.deliveries.count()))
    assert seen == [1]  # it ran once the deliveries existed, in the same transaction
    assert message.pk
    counted = DailyDeliveryStats.objects.get(status=DeliveryStatus.QUEUED).count

    def refuse(made):
        raise RuntimeError("the caller's own record failed")

    with pytest.raises(RuntimeError):
        send(draft_for(account, B), also=refuse)
    assert Message.objects.count() == 1
    assert not Delivery.objects.filter(phone=B).exists()
    assert DailyDeliveryStats.objects.get(status=DeliveryStatus.QUEUED).count == counted
