"""Retrying deliveries whose fate is unknown never sends twice without saying so: at ISMS the
repeat carries the original seqno (the provider answers "already received"); elsewhere staff
are told how many numbers may get the message twice and must accept it. Retry checks the balance
like compose. A wrong encryption key fails a send plainly: nothing went."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from cryptography.fernet import Fernet
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from smsportal.credits.models import BalanceSnapshot
from smsportal.messaging import sending
from smsportal.messaging.models import Delivery, Message
from smsportal.messaging.sending import ResolvedRecipients
from smsportal.messaging.tasks import dispatch_message
from smsportal.providers.backends.base import Balance, TransientError
from smsportal.sms.status import DeliveryStatus
from tests.support.sending import create_message

pytestmark = pytest.mark.django_db

PHONES = ["+96550000001", "+96550000002", "+96550000003"]


def timed_out(number, recipients):
    raise TransientError("Read timed out", request_sent=True)


def unknown_message(account, script, capture) -> Message:
    script.behaviour = timed_out
    with capture(execute=True):
        message = create_message(
            account=account, body="Hello", recipients=ResolvedRecipients(phones=PHONES)
        )
    assert set(message.deliveries.values_list("status", flat=True)) == {DeliveryStatus.UNKNOWN}
    script.behaviour = None
    script.calls.clear()
    return message


def test_an_isms_style_retry_of_unknown_deliveries_repeats_their_original_seqno(
    account, script, django_capture_on_commit_callbacks
):
    script.idempotent_retry = True
    script.bulk_size = 1
    first = unknown_message(account, script, django_capture_on_commit_callbacks)
    seen = []
    script.behaviour = lambda n, recipients: seen.extend(r.reference for r in recipients)

    assert sending.retry_plan(first, [DeliveryStatus.UNKNOWN]).warning == ""
    with django_capture_on_commit_callbacks(execute=True):
        again = sending.retry(first, [DeliveryStatus.UNKNOWN])

    originals = {str(pk) for pk in first.deliveries.values_list("pk", flat=True)}
    assert set(seen) == originals
    assert set(again.deliveries.values_list("status", flat=True)) == {DeliveryStatus.SUBMITTED}


def test_a_retry_of_unknown_deliveries_elsewhere_warns_with_the_count_and_needs_consent(
    operator_client, account, script, django_capture_on_commit_callbacks
):
    first = unknown_message(account, script, django_capture_on_commit_callbacks)

    page = operator_client.get(first.get_absolute_url()).content.decode()
    assert "3 recipients whose outcome is unknown may get the message twice" in page
    response = operator_client.post(f"/messages/{first.pk}/retry/", {"status": "unknown"})
    assert "may get the message twice" in str(next(iter(get_messages(response.wsgi_request))))
    assert Message.objects.count() == 1 and script.calls == []

    with django_capture_on_commit_callbacks(execute=True):
        operator_client.post(
            f"/messages/{first.pk}/retry/", {"status": "unknown", "accept_duplicates": "1"}
        )
    assert sorted(script.sent_to()) == PHONES


def test_the_warning_counts_one_recipient_in_the_singular(account, script, settings):
    message = Message.objects.create(account=account, body="x", encoding="GSM-7", segments=1)
    Delivery.objects.create(
        message=message, account=account, phone=PHONES[0], status=DeliveryStatus.UNKNOWN
    )
    warning = sending.retry_plan(message, [DeliveryStatus.UNKNOWN]).warning
    assert warning.startswith("1 recipient whose outcome is unknown may get the message twice")


def test_retry_checks_the_balance_like_compose(
    account, script, operator, django_capture_on_commit_callbacks
):
    script.balance = Balance(amount=Decimal("100"))
    # The first send is checked against the balance too (the send service's one check).
    BalanceSnapshot.objects.create(account=account, amount=Decimal("100"), source="refresh")
    first = unknown_message(account, script, django_capture_on_commit_callbacks)
    account.price_per_segment = Decimal("1")
    account.save()
    BalanceSnapshot.objects.create(
        account=account, amount=Decimal("2"), source="refresh", taken_at=timezone.now()
    )

    with pytest.raises(sending.SendRefused, match=r"needs 3\.00 credits"):
        sending.retry(first, [DeliveryStatus.UNKNOWN], operator, accept_duplicates=True)
    assert Message.objects.count() == 1


def test_a_wrong_encryption_key_fails_the_send_saying_so_and_nothing_is_left_unknown(
    account, script, settings, django_capture_on_commit_callbacks
):
    account.password = "secret"
    account.save()
    message = create_message(
        account=account, body="Hi", recipients=ResolvedRecipients(phones=PHONES)
    )
    settings.FIELD_ENCRYPTION_KEYS = [
        Fernet.generate_key().decode()
    ]  # not the key it was saved with

    with django_capture_on_commit_callbacks(execute=True):
        dispatch_message.call(message.pk)

    rows = list(message.deliveries.all())
    assert {(row.status, row.error_code) for row in rows} == {
        (DeliveryStatus.FAILED, "cannot-decrypt")
    }
    assert all(row.error_text.startswith("cannot decrypt the account password") for row in rows)
    assert script.calls == []
    message.refresh_from_db()
    assert message.status == Message.Status.DONE


def test_the_pages_warning_at_a_deduplicating_provider_counts_the_forgotten_from_the_summary(
    operator_client, account, script, django_capture_on_commit_callbacks
):
    """Where the provider remembers a reference for a while (ISMS), the page warns about the
    unknown deliveries first sent before that: the same count as the retry's own plan, read from
    the unknown counts by first send, never from the deliveries (the page asks on every poll)."""
    script.idempotent_retry = True
    message = unknown_message(account, script, django_capture_on_commit_callbacks)
    first, second, third = message.deliveries.order_by("id")
    long_ago = timezone.now() - sending.REPEAT_WINDOW - timedelta(minutes=1)

    def warned() -> str:
        shown = Message.objects.select_related("account").get(pk=message.pk)
        with CaptureQueriesContext(connection) as queries:
            warning = sending.retry_warning(shown, len(PHONES))
        assert len(queries) == 1
        assert '"messaging_delivery"' not in queries[0]["sql"]
        assert warning == sending.retry_plan(shown, [DeliveryStatus.UNKNOWN]).warning
        page = operator_client.get(message.get_absolute_url()).content.decode()
        assert ('id="retry-warning"' in page) == bool(warning)
        return warning

    assert warned() == ""  # all three first sent a moment ago: the provider remembers them
    Delivery.objects.filter(pk=first.pk).update(first_sent_at=long_ago)
    assert warned().startswith("1 recipient whose outcome is unknown may get the message twice")
    Delivery.objects.filter(pk=second.pk).update(first_sent_at=None)  # never sent, as it stands
    assert warned().startswith("2 recipients whose outcome is unknown may get the message twice")
    Delivery.objects.filter(pk__in=[first.pk, second.pk]).update(first_sent_at=timezone.now())
    assert warned() == ""
    Delivery.objects.filter(pk=third.pk).update(first_sent_at=long_ago)
    assert warned().startswith("1 recipient whose outcome is unknown")
