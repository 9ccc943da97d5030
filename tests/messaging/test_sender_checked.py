"""The sender ID is checked in the one send path, not only on the forms that offer it: a sender
retired (rejected, pending, no longer listed, another account's) is refused by `prepare`, so by
every way into it; a message that waited (scheduled) is not sent from a sender retired since,
and its retry or its change may choose another."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks import default_task_backend

from smsportal.core.models import Preference
from smsportal.messaging import sending
from smsportal.messaging.dispatch import SENDER_UNUSABLE_CODE
from smsportal.messaging.models import Delivery, DeliveryEvent, Message
from smsportal.messaging.sending import ResolvedRecipients, SendRefused
from smsportal.messaging.tasks import dispatch_message, send_batch
from smsportal.sms.status import DeliveryStatus
from tests.conftest import general_department
from tests.factories import ProviderAccountFactory, SenderIDFactory
from tests.support.sending import create_message

pytestmark = pytest.mark.django_db

PHONES = ["+96550000001", "+96550000002"]


def _send(account, sender, **kwargs) -> Message:
    return create_message(
        account=account,
        body="Hello",
        sender=sender,
        recipients=ResolvedRecipients(phones=PHONES),
        **kwargs,
    )


@pytest.mark.parametrize(
    ("status", "missing", "says"),
    [
        ("retired", False, "ALERTS has been retired and can no longer be sent from"),
        ("rejected", False, "ALERTS was rejected by the provider"),
        ("pending", False, "ALERTS is still waiting for the provider's approval"),
        ("active", True, "no longer lists ALERTS among its sender IDs"),
    ],
)
def test_the_send_path_refuses_a_sender_that_cannot_be_sent_from(
    account, script, status, missing, says
):
    SenderIDFactory(
        account=account,
        value="ALERTS",
        status=status,
        missing_since=timezone.now() if missing else None,
    )

    with pytest.raises(SendRefused) as refused:
        _send(account, "ALERTS")

    assert says in str(refused.value)
    assert refused.value.code == "sender_unusable"
    assert not Message.objects.exists() and script.calls == []


def test_another_accounts_sender_is_refused(account, script):
    SenderIDFactory(account=ProviderAccountFactory(kind="kwtsms"), value="ALERTS")

    with pytest.raises(SendRefused, match="ALERTS is not a sender ID of"):
        _send(account, "ALERTS")


def test_a_usable_sender_and_the_providers_default_are_sent_from(
    account, script, django_capture_on_commit_callbacks
):
    SenderIDFactory(account=account, value="ALERTS")

    with django_capture_on_commit_callbacks(execute=True):
        chosen = _send(account, "ALERTS")
        default = _send(account, "")

    assert chosen.sender == "ALERTS" and default.sender == ""
    assert len(script.sent_to()) == 4


@pytest.fixture
def tasks(settings):
    """Tasks kept, not run: a scheduled message's dispatch is run by the test, at "its time"."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    default_task_backend.clear()
    yield default_task_backend
    default_task_backend.clear()


def _scheduled(account, sender, django_capture_on_commit_callbacks) -> Message:
    with django_capture_on_commit_callbacks(execute=True):
        return _send(account, sender, scheduled_for=timezone.now() + timedelta(hours=1))


def _run_at_its_time(message: Message, tasks) -> None:
    """The scheduled dispatch, then the batches it enqueued."""
    tasks.clear()
    dispatch_message.call(message.pk, message.scheduled_for.isoformat())
    for result in tasks.results:
        assert result.task.func is send_batch.func
        send_batch.call(*result.args)


def test_a_scheduled_message_whose_sender_was_retired_since_is_held_until_its_sender_changes(
    account, script, tasks, django_capture_on_commit_callbacks
):
    sender = SenderIDFactory(account=account, value="ALERTS")
    SenderIDFactory(account=account, value="NEWS")
    message = _scheduled(account, "ALERTS", django_capture_on_commit_callbacks)
    sender.status = "retired"
    sender.save()

    with django_capture_on_commit_callbacks(execute=True):
        _run_at_its_time(message, tasks)

    assert script.calls == []
    message.refresh_from_db()
    assert message.status == Message.Status.SCHEDULED  # not failed: nothing counts against it
    assert message.held_reason == (
        "Held: its sender ID ALERTS is retired. Change its sender ID to send it."
    )
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.QUEUED}

    with django_capture_on_commit_callbacks(execute=True):
        sending.reschedule(message, scheduled_for=message.scheduled_for, sender="NEWS")
    message.refresh_from_db()
    assert message.held_reason == ""
    with django_capture_on_commit_callbacks(execute=True):
        _run_at_its_time(message, tasks)
    assert sorted(script.sent_to()) == PHONES
    message.refresh_from_db()
    assert message.status == Message.Status.DONE


def test_a_message_sent_now_whose_sender_was_retired_since_compose_is_refused_unsent(
    account, script, django_capture_on_commit_callbacks
):
    # Compose checked the sender a moment ago; a Manager retired it before the worker started.
    sender = SenderIDFactory(account=account, value="ALERTS")
    draft = sending.prepare(
        account=account,
        body="Hello",
        sender="ALERTS",
        recipients=ResolvedRecipients(phones=PHONES),
        department=general_department(),
    )
    sender.status = "retired"
    sender.save()
    with django_capture_on_commit_callbacks(execute=True):
        message = sending.send(draft)

    assert script.calls == []
    message.refresh_from_db()
    assert message.status == Message.Status.DONE
    deliveries = list(Delivery.objects.filter(message=message))
    assert {d.status for d in deliveries} == {DeliveryStatus.FAILED}
    assert {d.error_code for d in deliveries} == {SENDER_UNUSABLE_CODE}
    assert deliveries[0].error_text == (
        "Not sent: ALERTS has been retired and can no longer be sent from: choose another."
    )
    assert DeliveryEvent.objects.filter(to_status=DeliveryStatus.FAILED).count() == 2


def test_a_scheduled_message_whose_sender_is_still_usable_is_sent(
    account, script, tasks, django_capture_on_commit_callbacks
):
    SenderIDFactory(account=account, value="ALERTS")
    message = _scheduled(account, "ALERTS", django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        _run_at_its_time(message, tasks)

    assert sorted(script.sent_to()) == PHONES


def _failed(account, script, sender, django_capture_on_commit_callbacks) -> Message:
    """A message from `sender` whose every delivery the provider refused."""
    from smsportal.providers.backends.base import ProviderError

    def refuse(number, recipients):
        raise ProviderError("Rejected")

    script.behaviour = refuse
    with django_capture_on_commit_callbacks(execute=True):
        message = _send(account, sender)
    script.behaviour = None
    script.calls.clear()
    return message


def test_a_retry_refuses_the_retired_sender_and_goes_from_the_one_chosen_instead(
    account, script, django_capture_on_commit_callbacks
):
    old = SenderIDFactory(account=account, value="ALERTS")
    SenderIDFactory(account=account, value="NEWS")
    message = _failed(account, script, "ALERTS", django_capture_on_commit_callbacks)
    old.status = "retired"
    old.save()

    with pytest.raises(SendRefused, match="ALERTS has been retired"):
        sending.retry(message, ["failed"])
    with pytest.raises(SendRefused, match="OTHER is not a sender ID"):
        sending.retry(message, ["failed"], sender="OTHER")
    with django_capture_on_commit_callbacks(execute=True):
        retry = sending.retry(message, ["failed"], sender="NEWS")

    assert retry.sender == "NEWS" and retry.retry_of == message
    assert sorted(script.sent_to()) == PHONES


def test_a_reschedule_checks_the_sender_it_is_given_and_keeps_it(
    account, script, tasks, django_capture_on_commit_callbacks
):
    SenderIDFactory(account=account, value="ALERTS")
    SenderIDFactory(account=account, value="OLD", status="retired")
    message = _scheduled(account, "ALERTS", django_capture_on_commit_callbacks)
    later = message.scheduled_for + timedelta(hours=1)

    with pytest.raises(SendRefused, match="OLD has been retired"):
        sending.reschedule(message, scheduled_for=later, sender="OLD")
    message.refresh_from_db()
    assert message.sender == "ALERTS" and message.scheduled_for != later

    with django_capture_on_commit_callbacks(execute=True):
        sending.reschedule(message, scheduled_for=later, sender="")
    message.refresh_from_db()
    assert message.sender == "" and message.scheduled_for == later


# --- the pages --------------------------------------------------------------------------------


def _options(page: str, select_id: str) -> list[tuple[str, str, bool]]:
    select = re.search(rf'<select [^>]*id="{select_id}"[^>]*>(.*?)</select>', page, re.S).group(1)
    return [
        (value, html.unescape(words).strip(), " selected" in attrs)
        for value, attrs, words in re.findall(r'<option value="([^"]*)"([^>]*)>([^<]*)<', select)
    ]


def test_a_scheduled_message_whose_sender_was_retired_says_it_will_not_go_and_how_to_mend_it(
    operator_client, operator, account, script, tasks, django_capture_on_commit_callbacks
):
    sender = SenderIDFactory(account=account, value="ALERTS")
    SenderIDFactory(account=account, value="NEWS", is_default=True)
    message = _scheduled(account, "ALERTS", django_capture_on_commit_callbacks)
    page = operator_client.get(message.get_absolute_url()).content.decode()
    assert 'id="sender-warning"' not in page and 'id="sender-mark"' not in page

    sender.status = "retired"
    sender.save()
    page = operator_client.get(message.get_absolute_url()).content.decode()
    warning = re.search(r'id="sender-warning">(.*?)</div>', page, re.S).group(1)
    assert "ALERTS has been retired and can no longer be sent from" in warning
    edit = reverse("messaging:message_edit", args=[message.pk])
    assert f'It will not be sent unless you <a href="{edit}">change its sender ID</a>' in warning
    assert '<span class="badge text-bg-warning" id="sender-mark">retired</span>' in page

    page = operator_client.get(edit).content.decode()
    assert _options(page, "id_sender") == [
        ("NEWS", "NEWS (default)", False),
        ("ALERTS", "ALERTS (retired — choose another)", True),
    ]
    assert "ALERTS has been retired" in re.search(r'id="sender-warning">(.*?)</div>', page, re.S)[1]
    form = {
        "action": "save",
        "body": message.body,
        "scheduled_for": (message.scheduled_for + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
    }
    refused = operator_client.post(edit, {**form, "sender": "ALERTS"}).content.decode()
    assert refused.count("ALERTS has been retired") == 1  # under the select, said once
    assert re.search(
        r'id="id_sender".*?</select>\s*<div class="invalid-feedback d-block">'
        r"ALERTS has been retired",
        refused,
        re.S,
    )
    message.refresh_from_db()
    assert message.sender == "ALERTS"

    with django_capture_on_commit_callbacks(execute=True):
        operator_client.post(edit, {**form, "sender": "NEWS"})
    message.refresh_from_db()
    assert message.sender == "NEWS"
    with django_capture_on_commit_callbacks(execute=True):
        _run_at_its_time(message, tasks)
    assert sorted(script.sent_to()) == PHONES


def test_a_message_held_for_its_retired_sender_says_so_and_how_to_send_it(
    operator_client, account, script, tasks, django_capture_on_commit_callbacks
):
    sender = SenderIDFactory(account=account, value="ALERTS")
    message = _scheduled(account, "ALERTS", django_capture_on_commit_callbacks)
    sender.status = "retired"
    sender.save()
    Message.objects.filter(pk=message.pk).update(scheduled_for=timezone.now())
    message.refresh_from_db()
    _run_at_its_time(message, tasks)

    page = operator_client.get(message.get_absolute_url()).content.decode()

    warning = re.search(r'id="sender-warning">(.*?)</div>', page, re.S).group(1)
    edit = reverse("messaging:message_edit", args=[message.pk])
    assert (
        f'It was held when its time came, and nothing was sent: <a href="{edit}">change its '
        "sender ID</a> to send it." in warning
    )
    assert 'id="held-reason"' not in page  # the stored English reason is not said twice


def _held(account, tasks, django_capture_on_commit_callbacks) -> Message:
    """A message held when its time came (five minutes ago): its sender ID ALERTS was retired;
    NEWS is usable."""
    sender = SenderIDFactory(account=account, value="ALERTS")
    SenderIDFactory(account=account, value="NEWS")
    message = _scheduled(account, "ALERTS", django_capture_on_commit_callbacks)
    sender.status = "retired"
    sender.save()
    Message.objects.filter(pk=message.pk).update(
        scheduled_for=timezone.now() - timedelta(minutes=5)
    )
    message.refresh_from_db()
    _run_at_its_time(message, tasks)
    message.refresh_from_db()
    assert message.held_reason
    return message


@pytest.mark.parametrize(
    ("language", "flash", "banner", "due"),
    [
        (
            "en",
            "The message was changed: its time has come, so it goes in a moment.",
            "Queued: sending to 2 recipients starts in a moment.",
            "its time has come: it goes in a moment",
        ),
        (
            "ar",
            "تم تغيير الرسالة: حان وقتها، فتُرسل بعد لحظات.",
            "في الانتظار: يبدأ الإرسال إلى مستلمَين بعد لحظات.",
            "حان وقتها: تُرسل بعد لحظات",
        ),
    ],
)
def test_a_held_message_whose_sender_was_changed_says_it_goes_now_not_at_its_past_time(
    operator_client,
    operator,
    account,
    script,
    tasks,
    django_capture_on_commit_callbacks,
    language,
    flash,
    banner,
    due,
):
    message = _held(account, tasks, django_capture_on_commit_callbacks)
    Preference.objects.create(user=operator, language=language)
    edit = reverse("messaging:message_edit", args=[message.pk])
    minute = timezone.localtime(message.scheduled_for).strftime("%Y-%m-%dT%H:%M")
    form = {"action": "save", "body": message.body, "scheduled_for": minute, "sender": "NEWS"}

    tasks.clear()
    with django_capture_on_commit_callbacks(execute=True):
        changed = operator_client.post(edit, form, follow=True).content.decode()

    # Between the change and the worker's start: still scheduled, for the time that came and
    # went, and nothing holds it any more; its dispatch is enqueued for now.
    message.refresh_from_db()
    assert (message.status, message.sender, message.held_reason) == ("scheduled", "NEWS", "")
    assert message.scheduled_for < timezone.now()
    assert [r.task.func for r in tasks.results] == [dispatch_message.func]
    assert flash in changed
    page = operator_client.get(message.get_absolute_url()).content.decode()
    for shown in (changed, page):
        said = re.search(r'id="message-banner">(.*?)</div>', shown, re.S).group(1)
        assert said == banner
        assert 'data-phase="queued" hx-get=' in shown  # the page follows it into its send
        assert re.search(rf'id="scheduled-due">[^<]*{due}', shown)
        assert 'id="sender-warning"' not in shown and 'id="held-reason"' not in shown


def test_a_message_whose_time_came_is_still_said_to_be_held_when_its_sender_cannot_go(
    operator_client, account, script, tasks, django_capture_on_commit_callbacks
):
    """Its time came and its sender ID was retired before the worker held it: the page does
    not say it goes, it says why it will not."""
    message = _held(account, tasks, django_capture_on_commit_callbacks)
    Message.objects.filter(pk=message.pk).update(held_reason="")

    page = operator_client.get(message.get_absolute_url()).content.decode()

    assert 'data-phase="scheduled"' in page and 'id="scheduled-due"' not in page
    assert "It was held when its time came" in page


def test_the_edit_page_keeps_a_message_on_the_providers_default_sender(
    operator_client, account, script, tasks, django_capture_on_commit_callbacks
):
    SenderIDFactory(account=account, value="NEWS", is_default=True)
    message = _scheduled(account, "", django_capture_on_commit_callbacks)

    page = operator_client.get(reverse("messaging:message_edit", args=[message.pk])).content
    assert _options(page.decode(), "id_sender") == [
        ("", "The provider's default sender", True),
        ("NEWS", "NEWS (default)", False),
    ]


def test_retrying_from_a_retired_sender_offers_the_usable_ones_and_sends_from_the_choice(
    operator_client, account, script, django_capture_on_commit_callbacks
):
    old = SenderIDFactory(account=account, value="ALERTS")
    SenderIDFactory(account=account, value="NEWS")
    message = _failed(account, script, "ALERTS", django_capture_on_commit_callbacks)
    page = operator_client.get(message.get_absolute_url()).content.decode()
    assert 'id="retry-sender"' not in page  # its own sender still goes

    old.status = "retired"
    old.save()
    page = operator_client.get(message.get_absolute_url()).content.decode()
    assert _options(page, "retry-sender") == [
        ("", "Choose a sender ID", True),  # disabled: nothing is chosen for the person
        ("", "The provider's default sender", False),
        ("NEWS", "NEWS", False),
    ]
    warning = re.search(r'id="sender-warning">(.*?)</div>', page, re.S).group(1)
    assert "ALERTS has been retired" in warning
    assert "A retry goes from the sender ID chosen beside “Retry as a new message”." in warning

    url = reverse("messaging:message_retry", args=[message.pk])
    unchosen = operator_client.post(url, {"status": "failed"}, follow=True).content.decode()
    assert "ALERTS has been retired and can no longer be sent from: choose another." in unchosen
    assert not Message.objects.filter(retry_of=message).exists()
    with django_capture_on_commit_callbacks(execute=True):
        operator_client.post(url, {"status": "failed", "sender": "NEWS"})

    retry = Message.objects.get(retry_of=message)
    assert retry.sender == "NEWS"
    assert sorted(script.sent_to()) == PHONES
