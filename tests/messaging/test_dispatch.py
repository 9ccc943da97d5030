from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from smsportal.messaging import dispatch
from smsportal.messaging.models import Delivery, DeliveryEvent, Message
from smsportal.messaging.sending import ResolvedRecipients, SendRefused
from smsportal.providers.backends.base import (
    AuthenticationError,
    ProtocolError,
    SendResult,
    SubmitResult,
    SubmitStatus,
    TransientError,
)
from smsportal.sms.status import DeliveryStatus
from tests.support.sending import create_message

pytestmark = pytest.mark.django_db


def phones(n: int, start: int = 0) -> list[str]:
    return [f"+9655{start + i:07d}" for i in range(n)]


def send(account, numbers, django_capture_on_commit_callbacks, **kwargs) -> Message:
    with django_capture_on_commit_callbacks(execute=True):
        message = create_message(
            account=account,
            body=kwargs.pop("body", "Hello"),
            recipients=ResolvedRecipients(phones=numbers, skipped=kwargs.pop("skipped", [])),
            **kwargs,
        )
    message.refresh_from_db()
    return message


def statuses(message) -> dict[str, int]:
    from smsportal.messaging.progress import progress

    return progress(message.pk).counts


def test_every_recipient_is_submitted_once_and_the_message_is_done(
    account, script, django_capture_on_commit_callbacks
):
    message = send(account, phones(450), django_capture_on_commit_callbacks)

    assert message.status == Message.Status.DONE
    assert statuses(message) == {"submitted": 450}
    assert sorted(script.sent_to()) == sorted(phones(450))
    delivery = message.deliveries.first()
    assert delivery.provider_message_id == f"M{delivery.pk}"
    assert delivery.events.get().to_status == DeliveryStatus.SUBMITTED


def test_it_batches_at_the_providers_bulk_size(account, script, django_capture_on_commit_callbacks):
    script.bulk_size = 200

    send(account, phones(450), django_capture_on_commit_callbacks)

    assert sorted(len(call) for call in script.calls) == [50, 200, 200]


@pytest.mark.parametrize(
    ("kind", "want_report", "size"),
    [
        ("kwtsms", True, 5000),  # 200 a request: 25 requests a task
        ("isms", True, 1000),  # one number a request
        ("isms", False, 2500),  # 100 a request without delivery reports
        ("smscentre", True, 2500),
    ],
)
def test_a_task_is_at_least_1000_deliveries_and_25_requests(kind, want_report, size):
    from smsportal.providers.models import ProviderAccount

    account = ProviderAccount(kind=kind, base_url="http://127.0.0.1:9")
    message = Message(account=account, want_delivery_report=want_report)
    assert dispatch.task_size(account.backend, message) == size


def test_a_task_of_many_requests_sends_each_recipient_once(
    account, script, django_capture_on_commit_callbacks
):
    script.bulk_size = 200
    message = send(account, phones(5450), django_capture_on_commit_callbacks)

    assert statuses(message) == {"submitted": 5450}
    assert sorted(script.sent_to()) == sorted(phones(5450))
    assert len(script.calls) == 28  # 27 full requests and one of 50


def test_skipped_recipients_are_recorded_with_their_reason(
    account, script, django_capture_on_commit_callbacks
):
    message = send(
        account,
        phones(2),
        django_capture_on_commit_callbacks,
        skipped=[("12", "too short"), ("+96550000099", "opted out")],
    )

    skipped = message.deliveries.filter(status=DeliveryStatus.SKIPPED)
    assert {(d.phone, d.error_text) for d in skipped} == {
        ("12", "too short"),
        ("+96550000099", "opted out"),
    }
    assert "+96550000099" not in script.sent_to()


def test_a_batch_run_twice_sends_once(account, script, django_capture_on_commit_callbacks):
    message = send(account, phones(10), django_capture_on_commit_callbacks)
    first, last = (
        message.deliveries.order_by("id").first().pk,
        message.deliveries.order_by("id").last().pk,
    )

    assert dispatch.send_batch(message.pk, first, last) == 0
    assert len(script.sent_to()) == 10


def test_a_transient_error_before_the_request_left_is_retried(
    account, script, django_capture_on_commit_callbacks
):
    def flaky(call, recipients):
        if call < 3:
            raise TransientError("connection refused", request_sent=False)

    script.behaviour = flaky

    message = send(account, phones(3), django_capture_on_commit_callbacks)

    assert statuses(message) == {"submitted": 3}
    assert len(script.calls) == 3


def test_a_timeout_after_the_request_left_is_unknown_and_not_repeated(
    account, script, django_capture_on_commit_callbacks
):
    def timeout(call, recipients):
        raise TransientError("read timed out", request_sent=True)

    script.behaviour = timeout

    message = send(account, phones(3), django_capture_on_commit_callbacks)

    assert statuses(message) == {"unknown": 3}
    assert len(script.calls) == 1
    assert message.deliveries.first().error_text == "Outcome unknown: read timed out"
    assert message.status == Message.Status.DONE


def test_an_idempotent_provider_is_asked_again_after_a_timeout(
    account, script, django_capture_on_commit_callbacks
):
    script.idempotent_retry = True

    def timeout_once(call, recipients):
        if call == 1:
            raise TransientError("read timed out", request_sent=True)

    script.behaviour = timeout_once

    message = send(account, phones(1), django_capture_on_commit_callbacks)

    assert statuses(message) == {"submitted": 1}
    assert len(script.calls) == 2


def test_a_garbled_answer_is_unknown_never_submitted(
    account, script, django_capture_on_commit_callbacks
):
    def garbage(call, recipients):
        raise ProtocolError("The provider answered with an HTML page.")

    script.behaviour = garbage

    message = send(account, phones(2), django_capture_on_commit_callbacks)

    assert statuses(message) == {"unknown": 2}


def test_a_refused_login_fails_every_recipient_with_the_code(
    account, script, django_capture_on_commit_callbacks
):
    def refuse(call, recipients):
        raise AuthenticationError("The provider refused the username or password.", code="1702")

    script.behaviour = refuse

    message = send(account, phones(2), django_capture_on_commit_callbacks)

    assert statuses(message) == {"failed": 2}
    assert {d.error_code for d in message.deliveries.all()} == {"1702"}


def test_retries_before_sending_give_up_as_failed_not_sent(
    account, script, django_capture_on_commit_callbacks
):
    def down(call, recipients):
        raise TransientError("connection refused", request_sent=False)

    script.behaviour = down

    message = send(account, phones(1), django_capture_on_commit_callbacks)

    assert statuses(message) == {"failed": 1}
    assert message.deliveries.get().error_text.startswith("Not sent:")
    assert len(script.calls) == dispatch.MAX_TRIES


def test_per_recipient_results_and_missing_answers(
    account, script, django_capture_on_commit_callbacks
):
    def partial(call, recipients):
        first, second, _third = recipients
        return SendResult(
            [
                SubmitResult(first, SubmitStatus.SUBMITTED, provider_message_id="A"),
                SubmitResult(
                    second, SubmitStatus.FAILED, error_code="1705", error_text="Invalid number"
                ),
            ]
        )

    script.behaviour = partial

    message = send(account, phones(3), django_capture_on_commit_callbacks)

    rows = list(message.deliveries.order_by("id"))
    assert [r.status for r in rows] == ["submitted", "failed", "unknown"]
    assert rows[1].error_code == "1705"
    assert "did not mention this recipient" in rows[2].error_text


def test_a_crashing_backend_leaves_the_outcome_unknown(
    account, script, django_capture_on_commit_callbacks
):
    def crash(call, recipients):
        raise KeyError("bug")

    script.behaviour = crash

    message = send(account, phones(1), django_capture_on_commit_callbacks)

    assert statuses(message) == {"unknown": 1}


def test_the_sweeper_turns_stuck_sending_rows_into_unknown(account, script):
    message = Message.objects.create(
        account=account, body="x", encoding="GSM-7", segments=1, status=Message.Status.SENDING
    )
    old = Delivery.objects.create(
        message=message,
        account=account,
        phone="+96550000001",
        status=DeliveryStatus.SENDING,
        sending_at=timezone.now() - timedelta(hours=1),
    )
    fresh = Delivery.objects.create(
        message=message,
        account=account,
        phone="+96550000002",
        status=DeliveryStatus.SENDING,
        sending_at=timezone.now(),
    )

    assert dispatch.sweep_stuck(timedelta(minutes=10)) == 1

    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.status == DeliveryStatus.UNKNOWN
    assert old.events.get().source == DeliveryEvent.Source.SWEEPER
    assert fresh.status == DeliveryStatus.SENDING
    assert script.sent_to() == []


def test_the_sweeper_finishes_a_message_once_nothing_is_left(account):
    message = Message.objects.create(
        account=account, body="x", encoding="GSM-7", segments=1, status=Message.Status.SENDING
    )
    Delivery.objects.create(
        message=message,
        account=account,
        phone="+96550000001",
        status=DeliveryStatus.SENDING,
        sending_at=timezone.now() - timedelta(hours=1),
    )

    dispatch.sweep_stuck(timedelta(minutes=10))

    message.refresh_from_db()
    assert message.status == Message.Status.DONE


def test_cancel_withdraws_unsent_deliveries_and_later_batches_send_nothing(account, script):
    with_queue = create_message(
        account=account, body="Hi", recipients=ResolvedRecipients(phones=phones(5))
    )  # no on-commit capture: nothing is dispatched

    assert with_queue.cancel() == 5

    with_queue.refresh_from_db()
    assert with_queue.status == Message.Status.CANCELLED
    assert statuses(with_queue) == {"cancelled": 5}
    assert dispatch.start(with_queue.pk) == []
    ids = list(with_queue.deliveries.values_list("id", flat=True))
    assert dispatch.send_batch(with_queue.pk, min(ids), max(ids)) == 0
    assert script.sent_to() == []


def test_it_refuses_a_text_longer_than_the_account_allows(account, script):
    account.max_parts = 1
    account.save()

    with pytest.raises(SendRefused, match="needs 2 parts"):
        create_message(
            account=account, body="x" * 200, recipients=ResolvedRecipients(phones=phones(1))
        )
    assert not Message.objects.exists()


def test_it_refuses_an_empty_text_and_no_recipients(account, script):
    with pytest.raises(SendRefused, match="empty"):
        create_message(account=account, body="", recipients=ResolvedRecipients(phones=phones(1)))
    with pytest.raises(SendRefused, match="no recipient"):
        create_message(account=account, body="Hi", recipients=ResolvedRecipients())


def test_retry_sends_failed_deliveries_again_as_a_new_message(
    account, script, django_capture_on_commit_callbacks
):
    def fail_second(call, recipients):
        return SendResult(
            [
                SubmitResult(r, SubmitStatus.FAILED if i == 1 else SubmitStatus.SUBMITTED)
                for i, r in enumerate(recipients)
            ]
        )

    script.behaviour = fail_second
    message = send(account, phones(3), django_capture_on_commit_callbacks)
    script.behaviour = None

    from smsportal.messaging.sending import retry

    with django_capture_on_commit_callbacks(execute=True):
        again = retry(message, ["failed"])

    assert again.retry_of == message
    assert list(again.deliveries.values_list("phone", flat=True)) == [phones(3)[1]]
    assert statuses(again) == {"submitted": 1}


def test_the_same_form_submitted_twice_creates_one_message(
    account, script, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = create_message(
            account=account,
            body="Once",
            recipients=ResolvedRecipients(phones=phones(2)),
            idempotency_key="form-token-1",
        )
        second = create_message(
            account=account,
            body="Once",
            recipients=ResolvedRecipients(phones=phones(2)),
            idempotency_key="form-token-1",
        )

    assert first.pk == second.pk
    assert Message.objects.count() == 1
    assert len(script.sent_to()) == 2


def test_the_balance_a_provider_reports_after_a_send_is_recorded(
    account, script, django_capture_on_commit_callbacks
):
    from decimal import Decimal

    from smsportal.credits.models import BalanceSnapshot
    from smsportal.providers.backends.base import Balance

    def with_balance(call, recipients):
        return SendResult(
            [SubmitResult(r, SubmitStatus.SUBMITTED, provider_message_id="K") for r in recipients],
            balance_after=Balance(amount=Decimal("180"), purchased=Decimal("377")),
        )

    script.behaviour = with_balance

    send(account, phones(2), django_capture_on_commit_callbacks)

    snapshot = BalanceSnapshot.objects.get(account=account)
    assert (snapshot.amount, snapshot.purchased, snapshot.source) == (180, 377, "send")


def test_batches_a_dead_worker_never_started_are_found_again(account, settings):
    from smsportal.messaging.dispatch import stalled_batches

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    message = create_message(
        account=account, body="Hello", recipients=ResolvedRecipients(phones=phones(5))
    )
    dispatch.start(message.pk)  # sending, but no worker ever takes its batches
    assert stalled_batches(timedelta(minutes=10)) == []  # too early to call it lost
    Message.objects.filter(pk=message.pk).update(
        dispatched_at=timezone.now() - timedelta(minutes=11)
    )
    ids = list(message.deliveries.order_by("id").values_list("id", flat=True))
    assert stalled_batches(timedelta(minutes=10)) == [(message.pk, ids[0], ids[-1])]
    # A batch that moved recently is alive: not enqueued again.
    Delivery.objects.filter(pk=ids[0]).update(
        status=DeliveryStatus.SENDING, sending_at=timezone.now()
    )
    assert stalled_batches(timedelta(minutes=10)) == []
