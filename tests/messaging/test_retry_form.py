"""The message page's Retry form when the retry is refused: the refusal says what to do with the
controls the page has, and the form comes back as the person left it. Nothing is sent."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from smsportal.messaging.models import Delivery, Message
from smsportal.messaging.sending import ResolvedRecipients
from smsportal.providers.backends.base import TransientError
from smsportal.sms.status import DeliveryStatus
from tests.support.sending import create_message

pytestmark = pytest.mark.django_db

PHONES = ["+96550000001", "+96550000002", "+96550000003"]


def timed_out(number, recipients):
    raise TransientError("Read timed out", request_sent=True)


@pytest.fixture
def unknown(account, script, django_capture_on_commit_callbacks) -> Message:
    """A message whose three deliveries ended unknown, at a provider that cannot deduplicate."""
    script.behaviour = timed_out
    with django_capture_on_commit_callbacks(execute=True):
        message = create_message(
            account=account, body="Hello", recipients=ResolvedRecipients(phones=PHONES)
        )
    script.behaviour = None
    script.calls.clear()
    return message


def _retry(client, message, data):
    return client.post(reverse("messaging:message_retry", args=[message.pk]), data, follow=True)


def _ticked(page: str, box: str) -> bool:
    (tag,) = re.findall(rf'<input [^>]*id="{box}"[^>]*>', page)
    return " checked" in tag


def test_retrying_unknown_without_accepting_says_which_box_to_tick_and_keeps_the_choice(
    operator_client, unknown, script
):
    response = _retry(operator_client, unknown, {"status": "unknown"})

    page = response.content.decode()
    assert response.redirect_chain[-1][0].startswith(unknown.get_absolute_url())
    assert "3 recipients whose outcome is unknown may get the message twice" in page
    assert (
        "To send to them anyway, tick “accept that some may get it twice” and press "
        "“Retry as a new message” again." in page
    )
    assert "Confirm to send" not in page  # there is no Confirm button on this page
    assert _ticked(page, "retry-unknown")
    assert not _ticked(page, "retry-accept-duplicates")  # consent is never given for them
    assert Message.objects.count() == 1 and script.calls == []


def test_retrying_with_nothing_ticked_asks_which_deliveries_to_retry(
    operator_client, unknown, script
):
    page = _retry(operator_client, unknown, {}).content.decode()

    assert "Only failed or unknown deliveries can be retried." not in page
    assert (
        "Choose which deliveries to retry: tick “unknown”, then press “Retry as a new message”."
        in page
    )
    assert not _ticked(page, "retry-unknown")
    assert Message.objects.count() == 1 and script.calls == []


def test_a_refused_retry_keeps_failed_unticked_when_the_person_unticked_it(
    operator_client, unknown, script
):
    Delivery.objects.filter(message=unknown, phone=PHONES[0]).update(status=DeliveryStatus.FAILED)

    page = _retry(operator_client, unknown, {"status": "unknown"}).content.decode()

    assert not _ticked(page, "retry-failed")
    assert _ticked(page, "retry-unknown")
    assert "2 recipients whose outcome is unknown may get the message twice" in page
    # Nothing ticked, with both kinds there: both boxes are named.
    page = _retry(operator_client, unknown, {}).content.decode()
    assert (
        "Choose which deliveries to retry: tick “failed”, “unknown” or both, then press "
        "“Retry as a new message”." in page
    )
    assert not _ticked(page, "retry-failed") and not _ticked(page, "retry-unknown")
    assert Message.objects.count() == 1 and script.calls == []


def test_the_page_of_its_own_ticks_failed_and_leaves_the_rest(operator_client, unknown):
    Delivery.objects.filter(message=unknown, phone=PHONES[0]).update(status=DeliveryStatus.FAILED)

    page = operator_client.get(unknown.get_absolute_url()).content.decode()

    assert _ticked(page, "retry-failed")
    assert not _ticked(page, "retry-unknown")
    assert not _ticked(page, "retry-accept-duplicates")


def test_the_kept_choice_only_ticks_boxes_and_never_the_consent_to_duplicates(
    operator_client, unknown, script, django_capture_on_commit_callbacks
):
    """An address can only tick status boxes on the page, never the consent; the retry itself
    still needs the statuses posted, with consent."""
    page = operator_client.get(
        unknown.get_absolute_url() + "?retry=unknown&retry=delivered&accept_duplicates=1"
    ).content.decode()
    assert _ticked(page, "retry-unknown")
    assert not _ticked(page, "retry-accept-duplicates")

    with django_capture_on_commit_callbacks(execute=True):
        _retry(operator_client, unknown, {"status": "unknown", "accept_duplicates": "1"})
    assert sorted(script.sent_to()) == PHONES


def test_a_retry_refused_after_consent_comes_back_with_the_consent_to_give_again(
    operator_client, unknown, script
):
    unknown.account.is_active = False
    unknown.account.save()

    page = _retry(
        operator_client, unknown, {"status": "unknown", "accept_duplicates": "1"}
    ).content.decode()

    assert _ticked(page, "retry-unknown")
    assert not _ticked(page, "retry-accept-duplicates")
    assert Message.objects.count() == 1 and script.calls == []


@pytest.mark.parametrize(
    "at_risk, them",
    [(1, "إليه"), (2, "إليهما"), (3, "إليهم"), (11, "إليهم")],
)
def test_the_arabic_advice_after_the_warning_agrees_with_how_many_are_at_risk(
    operator_client, operator, account, script, django_capture_on_commit_callbacks, at_risk, them
):
    """The warning counts the recipients at risk; the advice after it refers to them, and
    Arabic says "him", "the two of them" or "them" by that count."""
    from smsportal.core.models import Preference

    Preference.objects.update_or_create(user=operator, defaults={"language": "ar"})
    script.behaviour = timed_out
    with django_capture_on_commit_callbacks(execute=True):
        message = create_message(
            account=account,
            body="Hello",
            recipients=ResolvedRecipients(phones=[f"+965500001{i:02}" for i in range(at_risk)]),
        )
    script.behaviour = None

    page = _retry(operator_client, message, {"status": "unknown"}).content.decode()

    assert (
        f"للإرسال {them} رغم ذلك، حدّد «أقبل أن تصل الرسالة إلى بعضهم مرتين» واضغط "
        "«إعادة المحاولة برسالة جديدة» مرة أخرى." in page
    )
