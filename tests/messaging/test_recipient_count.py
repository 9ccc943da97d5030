"""The message page and the messages list count the recipients the person confirmed on Compose
(`recipient_count`: the numbers to send to), and say apart the numbers skipped when the message
was made (opted out, invalid), which are kept on it as skipped rows but were never recipients."""

from __future__ import annotations

import pytest
from django.urls import reverse

from smsportal.contacts.models import OptOut
from smsportal.messaging.models import Delivery, Message
from smsportal.messaging.progress import Progress
from smsportal.messaging.sending import ResolvedRecipients
from smsportal.sms.status import DeliveryStatus
from tests.support.sending import create_message

pytestmark = pytest.mark.django_db

PHONES = ["+96550000001", "+96550000002", "+96550000003"]


@pytest.fixture
def one_opted_out(account, script, django_capture_on_commit_callbacks) -> Message:
    """Three numbers given, one of which had opted out: two recipients, one skipped row."""
    OptOut.objects.create(phone=PHONES[2])
    with django_capture_on_commit_callbacks(execute=True):
        message = create_message(
            account=account, body="Hello", recipients=ResolvedRecipients(phones=PHONES)
        )
    assert message.recipient_count == 2 and message.deliveries.count() == 3
    return message


def test_the_page_counts_the_confirmed_recipients_and_says_the_skipped_one_apart(
    operator_client, one_opted_out
):
    page = operator_client.get(one_opted_out.get_absolute_url()).content.decode()

    assert "2 of 2 recipients processed (100%)" in page
    assert "of 3 recipients" not in page
    assert "1 more number was skipped when the message was made; the table below says why." in page
    assert '<strong data-count="skipped">1</strong>' in page  # the rows are all still there
    assert 'data-filter-count="all">3<' in page


def test_the_list_counts_the_confirmed_recipients(operator_client, one_opted_out):
    page = operator_client.get(reverse("messaging:message_list")).content.decode()

    assert '<td class="num" data-label="Recipients">2</td>' in page


def test_a_number_that_opts_out_during_the_send_stays_a_recipient(
    operator_client, account, settings
):
    """Skipped at dispatch (opted out after Compose): it was among the confirmed recipients."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    message = create_message(
        account=account, body="Hi", recipients=ResolvedRecipients(phones=PHONES[:2])
    )
    Delivery.objects.filter(message=message, phone=PHONES[0]).update(status=DeliveryStatus.SKIPPED)

    page = operator_client.get(message.get_absolute_url()).content.decode()

    assert "1 of 2 recipients processed (50%)" in page
    assert "more number" not in page


@pytest.mark.parametrize(
    "counts, recipient_count, set_aside",
    [
        ({"delivered": 2, "skipped": 1}, 2, 1),
        ({"delivered": 1, "skipped": 2}, 2, 1),  # one skipped at compose, one at dispatch
        ({"delivered": 3}, 3, 0),
        ({"submitted": 1}, 0, 0),  # a list kept at the provider: one row, counted as none
    ],
)
def test_only_skipped_rows_beyond_the_recipients_are_set_aside(counts, recipient_count, set_aside):
    progress = Progress(counts).made_for(recipient_count)

    assert progress.set_aside == set_aside
    assert progress.recipients == progress.total - set_aside
