"""A delivery is retried once: pressing Retry twice (a double click, the page left open and
pressed again later) sends it once. The original keeps its failed deliveries as they ended,
each naming the message that retried it, and the page offers only what is left to retry."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.urls import reverse

from smsportal.messaging import sending
from smsportal.messaging.models import Delivery, Message
from smsportal.messaging.sending import ResolvedRecipients
from smsportal.providers.backends.base import InvalidRecipient, TransientError
from smsportal.sms.status import DeliveryStatus
from tests.support.sending import create_message

PHONES = ["+96550000001", "+96550000002"]


def _refuse(number, recipients):
    raise InvalidRecipient("rejected")


def _timed_out(number, recipients):
    raise TransientError("Read timed out", request_sent=True)


@pytest.fixture
def failed(account, script, django_capture_on_commit_callbacks) -> Message:
    script.behaviour = _refuse
    with django_capture_on_commit_callbacks(execute=True):
        message = create_message(
            account=account, body="Hello", recipients=ResolvedRecipients(phones=PHONES)
        )
    script.behaviour = None
    script.calls.clear()
    assert set(message.deliveries.values_list("status", flat=True)) == {DeliveryStatus.FAILED}
    return message


def _press_retry(client, message, capture, data=None):
    url = reverse("messaging:message_retry", args=[message.pk])
    with capture(execute=True):
        return client.post(url, data or {"status": "failed"}, follow=True)


@pytest.mark.django_db
def test_pressing_retry_twice_sends_each_number_once_and_answers_with_the_first_retry(
    operator_client, failed, script, django_capture_on_commit_callbacks
):
    first = _press_retry(operator_client, failed, django_capture_on_commit_callbacks)
    again = _press_retry(operator_client, failed, django_capture_on_commit_callbacks)

    (retry,) = Message.objects.filter(retry_of=failed)
    assert sorted(script.sent_to()) == PHONES  # once each
    assert first.redirect_chain[-1][0] == retry.get_absolute_url()
    assert again.redirect_chain[-1][0] == retry.get_absolute_url()
    page = again.content.decode()
    assert (
        f"These deliveries were already retried, in message #{retry.pk}: nothing was sent again."
        in page
    )


@pytest.mark.django_db
def test_the_original_keeps_its_failed_deliveries_and_says_where_they_were_retried(
    operator_client, failed, script, django_capture_on_commit_callbacks
):
    _press_retry(operator_client, failed, django_capture_on_commit_callbacks)
    retry = Message.objects.get(retry_of=failed)

    rows = Delivery.objects.filter(message=failed)
    assert {(d.status, d.retried_in_id) for d in rows} == {(DeliveryStatus.FAILED, retry.pk)}
    page = operator_client.get(failed.get_absolute_url()).content.decode()
    assert page.count(f'retried in <a href="{retry.get_absolute_url()}">#{retry.pk}</a>') == 2
    assert 'id="retried-in"' in page
    # Nothing is left to retry: the form is gone, though the counts still say failed.
    assert 'id="retry-form"' not in page
    assert 'id="retry-failed"' not in page


@pytest.mark.django_db
def test_a_later_failure_is_retried_alone(
    operator_client, failed, script, django_capture_on_commit_callbacks
):
    """Only the deliveries no retry took: one that failed after the first retry goes alone."""
    late = Delivery.objects.filter(message=failed, phone=PHONES[1])
    late.update(status=DeliveryStatus.SUBMITTED)
    _press_retry(operator_client, failed, django_capture_on_commit_callbacks)
    late.update(status=DeliveryStatus.FAILED)  # its report came later
    script.calls.clear()

    page = operator_client.get(failed.get_absolute_url()).content.decode()
    assert 'id="retry-failed"' in page and "failed (1)" in page
    _press_retry(operator_client, failed, django_capture_on_commit_callbacks)

    assert script.sent_to() == [PHONES[1]]
    first, second = Message.objects.filter(retry_of=failed).order_by("pk")
    assert dict(Delivery.objects.filter(message=failed).values_list("phone", "retried_in")) == {
        PHONES[0]: first.pk,
        PHONES[1]: second.pk,
    }


@pytest.mark.django_db
def test_a_retry_that_loses_the_race_sends_nothing_and_leaves_the_winners_record(
    operator_client, failed, script, django_capture_on_commit_callbacks, monkeypatch
):
    """Two retries read the same deliveries; the first takes them; the second's conditional
    update finds them taken, so its message and its dispatch are undone."""
    stale = sending.retry_plan(failed, [DeliveryStatus.FAILED])
    with django_capture_on_commit_callbacks(execute=True):
        winner = sending.retry(failed, [DeliveryStatus.FAILED])
    monkeypatch.setattr(sending, "retry_plan", lambda message, statuses: stale)

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(sending.AlreadyRetried) as refused,
    ):
        sending.retry(failed, [DeliveryStatus.FAILED])

    assert refused.value.retry == winner
    assert callbacks == []  # no dispatch enqueued
    assert list(Message.objects.filter(retry_of=failed)) == [winner]
    assert set(Delivery.objects.filter(message=failed).values_list("retried_in", flat=True)) == {
        winner.pk
    }
    assert sorted(script.sent_to()) == PHONES


@pytest.mark.django_db(transaction=True)
def test_two_retries_at_once_make_one_message(account, script):
    """Each with its own connection (on SQLite and on PostgreSQL): one wins, one is refused."""
    script.behaviour = _refuse
    message = create_message(
        account=account, body="Hello", recipients=ResolvedRecipients(phones=PHONES)
    )
    Delivery.objects.filter(message=message).update(status=DeliveryStatus.FAILED)
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def press(index):
        try:
            barrier.wait()
            results[index] = sending.retry(message, [DeliveryStatus.FAILED])
        except Exception as error:
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=press, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    made = [r for r in results if isinstance(r, Message)]
    refused = [r for r in results if isinstance(r, sending.AlreadyRetried)]
    assert len(made) == 1 and len(refused) == 1, results
    assert refused[0].retry == made[0]
    assert Message.objects.filter(retry_of=message).count() == 1


@pytest.mark.django_db
def test_unknown_deliveries_still_need_consent_and_are_then_retried_once(
    operator_client, account, script, django_capture_on_commit_callbacks
):
    script.behaviour = _timed_out
    with django_capture_on_commit_callbacks(execute=True):
        message = create_message(
            account=account, body="Hello", recipients=ResolvedRecipients(phones=PHONES)
        )
    script.behaviour = None
    script.calls.clear()

    page = _press_retry(
        operator_client, message, django_capture_on_commit_callbacks, {"status": "unknown"}
    ).content.decode()
    assert "may get the message twice" in page
    assert not Message.objects.filter(retry_of=message).exists()

    consent = {"status": "unknown", "accept_duplicates": "1"}
    _press_retry(operator_client, message, django_capture_on_commit_callbacks, consent)
    _press_retry(operator_client, message, django_capture_on_commit_callbacks, consent)

    assert Message.objects.filter(retry_of=message).count() == 1
    assert sorted(script.sent_to()) == PHONES
    page = operator_client.get(message.get_absolute_url()).content.decode()
    assert 'id="retry-warning"' not in page  # nothing left that could arrive twice
