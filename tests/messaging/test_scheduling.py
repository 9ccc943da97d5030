from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks import default_task_backend

from smsportal.messaging.models import Message
from smsportal.messaging.sending import ResolvedRecipients, SendRefused, reschedule
from smsportal.messaging.tasks import dispatch_message
from tests.support.sending import create_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def dummy_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    default_task_backend.clear()
    yield default_task_backend
    default_task_backend.clear()


def test_a_scheduled_message_is_enqueued_to_run_at_its_time(
    account, script, dummy_tasks, django_capture_on_commit_callbacks
):
    when = timezone.now() + timedelta(hours=2)

    with django_capture_on_commit_callbacks(execute=True):
        message = create_message(
            account=account,
            body="Later",
            recipients=ResolvedRecipients(phones=["+96550000001"]),
            scheduled_for=when,
        )

    (result,) = dummy_tasks.results
    assert result.task.run_after == when
    assert result.args == [message.pk, when.isoformat()]
    assert message.status == Message.Status.SCHEDULED


def test_moving_a_scheduled_message_makes_the_old_task_stale(
    account, script, dummy_tasks, django_capture_on_commit_callbacks
):
    first = timezone.now() + timedelta(hours=2)
    with django_capture_on_commit_callbacks(execute=True):
        message = create_message(
            account=account,
            body="Later",
            recipients=ResolvedRecipients(phones=["+96550000001"]),
            scheduled_for=first,
        )
    with django_capture_on_commit_callbacks(execute=True):
        reschedule(message, body="Changed", scheduled_for=first + timedelta(hours=1))

    assert dispatch_message.call(message.pk, first.isoformat()) == 0
    message.refresh_from_db()
    assert message.status == Message.Status.SCHEDULED
    assert message.body == "Changed"
    assert script.sent_to() == []

    assert dispatch_message.call(message.pk, message.scheduled_for.isoformat()) == 1


def test_a_message_being_sent_can_no_longer_be_changed(account, script):
    message = Message.objects.create(
        account=account, body="x", encoding="GSM-7", segments=1, status=Message.Status.SENDING
    )

    with pytest.raises(SendRefused, match="still scheduled"):
        reschedule(message, scheduled_for=timezone.now() + timedelta(hours=1))
