from __future__ import annotations

import pytest
from django.urls import reverse

from smsportal.messaging.models import Message
from smsportal.messaging.sending import ResolvedRecipients, create_message
from smsportal.messaging.status import DeliveryStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def message(account, script, django_capture_on_commit_callbacks):
    def fail_first(call, recipients):
        from smsportal.providers.backends.base import SendResult, SubmitResult, SubmitStatus

        return SendResult(
            [
                SubmitResult(
                    r,
                    SubmitStatus.FAILED if i == 0 else SubmitStatus.SUBMITTED,
                    error_code="1705" if i == 0 else "",
                    error_text="Invalid mobile number" if i == 0 else "",
                )
                for i, r in enumerate(recipients)
            ]
        )

    script.behaviour = fail_first
    with django_capture_on_commit_callbacks(execute=True):
        message = create_message(
            account=account,
            body="Hello there",
            recipients=ResolvedRecipients(phones=["+96550000001", "+96550000002"]),
        )
    script.behaviour = None
    return message


def test_the_list_shows_each_message_with_its_counts(operator_client, message):
    page = operator_client.get(reverse("messaging:message_list")).content.decode()

    assert "Hello there" in page
    assert "1 failed" in page and "1 submitted" in page


def test_the_detail_shows_the_error_of_each_recipient(operator_client, message):
    page = operator_client.get(message.get_absolute_url()).content.decode()

    assert "Invalid mobile number" in page
    assert "+96550000001" in page


def test_the_progress_fragment_alone_answers_htmx_polling(operator_client, message):
    response = operator_client.get(
        message.get_absolute_url(), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="progress"
    )

    body = response.content.decode()
    assert body.lstrip().startswith('<div id="progress"')
    assert "<html" not in body


def test_the_recipients_filter_by_status(operator_client, message):
    page = operator_client.get(message.get_absolute_url() + "?status=failed").content.decode()

    assert "+96550000001" in page
    assert "+96550000002" not in page


def test_an_outsider_cannot_see_messages(client, outsider, message):
    client.force_login(outsider)

    assert client.get(reverse("messaging:message_list")).status_code == 403
    assert client.get(message.get_absolute_url()).status_code == 403
    assert client.post(reverse("messaging:message_cancel", args=[message.pk])).status_code == 403


def test_retry_from_the_page_creates_a_new_message(operator_client, message, script):
    response = operator_client.post(
        reverse("messaging:message_retry", args=[message.pk]), {"status": ["failed"]}
    )

    retry = Message.objects.get(retry_of=message)
    assert response.status_code == 302
    assert response["Location"] == retry.get_absolute_url()
    assert retry.deliveries.get().phone == "+96550000001"


def test_cancel_from_the_page(operator_client, account, script):
    message = create_message(
        account=account, body="Hi", recipients=ResolvedRecipients(phones=["+96550000003"])
    )

    operator_client.post(reverse("messaging:message_cancel", args=[message.pk]))

    assert message.deliveries.get().status == DeliveryStatus.CANCELLED
