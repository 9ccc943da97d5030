"""A finished message looks like what happened to it: green only when every recipient was
delivered or handed over, a warning when some failed or their outcome is unknown. The note of
a provider that sends no delivery reports stays true when nothing was handed over."""

from __future__ import annotations

import pytest

from smsportal.messaging.models import Message
from smsportal.messaging.progress import Progress, phase_of
from smsportal.messaging.sending import ResolvedRecipients
from smsportal.providers.backends.base import TransientError
from tests.support.sending import create_message

pytestmark = pytest.mark.django_db


def _done(counts: dict) -> str:
    return phase_of(
        Message(status=Message.Status.DONE), Progress(counts), reports_expected=True
    ).css


@pytest.mark.parametrize(
    "counts, css",
    [
        ({"delivered": 3}, "success"),
        ({"delivered": 2, "skipped": 1}, "success"),
        ({"unknown": 3}, "warning"),
        ({"delivered": 2, "failed": 1}, "warning"),
        ({"delivered": 2, "undelivered": 1}, "warning"),
        ({"delivered": 2, "rejected": 1}, "warning"),
        ({"delivered": 2, "expired": 1}, "warning"),
        ({"skipped": 2}, "secondary"),  # nothing sent, nothing went wrong
    ],
)
def test_a_finished_message_is_green_only_when_nothing_failed_or_is_unknown(counts, css):
    assert _done(counts) == css


def test_handed_over_without_reports_is_success(account):
    message = Message(status=Message.Status.DONE)
    phase = phase_of(message, Progress({"submitted": 3}), reports_expected=False)
    assert phase.css == "success"


def timed_out(number, recipients):
    raise TransientError("Read timed out", request_sent=True)


def _send(account, script, capture, behaviour=None) -> Message:
    script.behaviour = behaviour
    with capture(execute=True):
        message = create_message(
            account=account,
            body="Hello",
            recipients=ResolvedRecipients(phones=["+96550000001", "+96550000002"]),
        )
    script.behaviour = None
    return message


def test_all_unknown_reads_as_a_warning_on_the_page_and_the_list(
    operator_client, account, script, django_capture_on_commit_callbacks
):
    message = _send(account, script, django_capture_on_commit_callbacks, timed_out)

    page = operator_client.get(message.get_absolute_url()).content.decode()
    assert (
        'class="alert alert-warning py-2" role="status" id="message-banner">Done: 2 unknown.'
        in (page)
    )
    listed = operator_client.get("/messages/").content.decode()
    assert '<span class="badge text-bg-warning">done</span>' in listed


def test_no_reports_note_never_says_deliveries_stay_submitted_when_none_was(
    operator_client, account, script, django_capture_on_commit_callbacks
):
    # The fake provider, like IntelliSoftware, sends no delivery reports.
    unknown = _send(account, script, django_capture_on_commit_callbacks, timed_out)
    handed = _send(account, script, django_capture_on_commit_callbacks)

    page = operator_client.get(unknown.get_absolute_url()).content.decode()
    assert 'id="no-reports-note"' not in page
    assert "stay <em>submitted</em>" not in page
    page = operator_client.get(handed.get_absolute_url()).content.decode()
    assert 'id="no-reports-note"' in page
    assert "so the deliveries it accepts stay <em>submitted</em>" in page
