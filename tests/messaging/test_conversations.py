"""A conversation: its SMS both ways with statuses, read marks, and replies through the send
path (opt-outs, balance, one send per click)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from smsportal.contacts.models import OptOut
from smsportal.core.models import Preference
from smsportal.messaging.conversations import thread
from smsportal.messaging.inbound import receive
from smsportal.messaging.models import Conversation, Delivery, InboundMessage, Message
from smsportal.messaging.sending import ResolvedRecipients
from smsportal.providers.backends.base import InboundSMS
from smsportal.sms.status import DeliveryStatus
from tests.factories import ContactFactory
from tests.support.sending import create_message

pytestmark = pytest.mark.django_db

PHONE = "+96597119440"


def _sms(account, text, sender=PHONE):
    return receive(account, InboundSMS(sender=sender, recipient="", text=text, raw={}))


def _reply(client, convo, text, token="t-1", **extra):  # noqa: S107
    return client.post(
        reverse("messaging:conversation_reply", args=[convo.pk]),
        {"text": text, "token": token},
        **extra,
    )


def test_a_thread_holds_both_ways_oldest_first_with_statuses(
    operator_client, account, script, django_capture_on_commit_callbacks
):
    _sms(account, "Is the clinic open on Friday?")
    convo = Conversation.objects.get()
    with django_capture_on_commit_callbacks(execute=True):  # the send runs (immediate tasks)
        _reply(operator_client, convo, "Yes, from 9 to 1.")
    _sms(account, "Thanks")

    items, earlier = thread(convo)
    page = operator_client.get(convo.get_absolute_url()).content.decode()

    assert [(i.incoming, i.text) for i in items] == [
        (True, "Is the clinic open on Friday?"),
        (False, "Yes, from 9 to 1."),
        (True, "Thanks"),
    ]
    assert not earlier
    assert items[1].delivery.status == DeliveryStatus.SUBMITTED
    assert 'data-status="submitted"' in page
    assert page.index("open on Friday") < page.index("from 9 to 1") < page.index("Thanks")


def test_bulk_sends_to_the_number_show_in_its_thread(operator_client, account, script):
    create_message(
        account=account, body="Ramadan opening hours", recipients=ResolvedRecipients([PHONE])
    )
    _sms(account, "What are they on Eid?")

    items, _ = thread(Conversation.objects.get())

    assert [i.text for i in items] == ["Ramadan opening hours", "What are they on Eid?"]


def test_a_long_thread_pages_back(operator_client, account, monkeypatch):
    for i in range(7):
        _sms(account, f"Message {i}")
    convo = Conversation.objects.get()

    latest, earlier = thread(convo, limit=3)
    older, more = thread(convo, before=latest[0].at, limit=3)

    assert [i.text for i in latest] == ["Message 4", "Message 5", "Message 6"]
    assert earlier
    assert [i.text for i in older] == ["Message 1", "Message 2", "Message 3"]
    assert more


def test_opening_a_thread_marks_it_read(operator_client, account):
    _sms(account, "One")
    _sms(account, "Two")
    convo = Conversation.objects.get()
    assert convo.unread == 2

    operator_client.get(convo.get_absolute_url())

    convo.refresh_from_db()
    assert convo.unread == 0
    assert not InboundMessage.objects.filter(read_at__isnull=True).exists()


def test_a_reply_goes_through_the_send_path_once_per_click(
    operator_client, account, script, django_capture_on_commit_callbacks
):
    _sms(account, "Hello")
    convo = Conversation.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        first = _reply(operator_client, convo, "Hi there", HTTP_HX_REQUEST="true")
        _reply(operator_client, convo, "Hi there", HTTP_HX_REQUEST="true")  # a double click

    assert first.status_code == 200
    message = Message.objects.get()
    assert message.body == "Hi there" and message.account == account
    assert list(message.deliveries.values_list("phone", flat=True)) == [PHONE]
    assert script.sent_to() == [PHONE]
    convo.refresh_from_db()
    assert (convo.replies, convo.last_incoming, convo.last_text) == (1, False, "Hi there")
    assert 'id="reply-form"' in first.content.decode()  # a fresh form for the next reply


def test_a_reply_to_an_opted_out_number_is_refused_with_the_reason(operator_client, account):
    _sms(account, "Hello")
    OptOut.objects.create(phone=PHONE, reason=OptOut.Reason.MANUAL)
    convo = Conversation.objects.get()

    response = _reply(operator_client, convo, "Are you sure?")

    assert response.status_code == 400
    assert "has opted out" in response.content.decode()
    assert not Message.objects.exists()


def test_an_empty_reply_is_refused(operator_client, account):
    _sms(account, "Hello")
    convo = Conversation.objects.get()

    response = _reply(operator_client, convo, "   ")

    assert "Write the reply first." in response.content.decode()
    assert not Message.objects.exists()


def test_the_reply_preview_counts_as_the_account_sends(operator_client, account):
    _sms(account, "Hello")
    convo = Conversation.objects.get()

    response = operator_client.post(
        reverse("messaging:conversation_reply", args=[convo.pk]),
        {"text": "مرحبا", "action": "preview"},
        HTTP_HX_REQUEST="true",
    )

    html = response.content.decode()
    assert 'id="reply-encoding"' in html and "Unicode" in html
    assert "1 SMS" in html
    assert not Message.objects.exists()


def test_the_contact_page_shows_its_conversation(operator_client, account):
    contact = ContactFactory(phone=PHONE, name="Fatima")
    _sms(account, "Hello from Fatima")

    page = operator_client.get(reverse("contacts:contact_edit", args=[contact.pk])).content.decode()
    fragment = operator_client.get(
        reverse("messaging:contact_conversations", args=[PHONE])
    ).content.decode()

    assert reverse("messaging:contact_conversations", args=[PHONE]) in page
    assert "Hello from Fatima" in fragment


def test_an_operator_without_send_rights_sees_no_reply_box(client, operator, account):
    from django.contrib.auth.models import Permission

    operator.user_permissions.clear()
    operator.groups.clear()
    operator.user_permissions.add(
        Permission.objects.get(codename="view_inboundmessage"),
    )
    client.force_login(operator)
    _sms(account, "Hello")
    convo = Conversation.objects.get()

    page = client.get(convo.get_absolute_url()).content.decode()

    assert 'id="reply-form"' not in page
    assert _reply(client, convo, "Hi").status_code == 403
    assert not Delivery.objects.exists()


def test_the_arabic_subtitle_joins_its_counts_with_the_arabic_comma(
    operator_client, operator, account
):
    Preference.objects.update_or_create(user=operator, defaults={"language": "ar"})
    _sms(account, "مرحبا")
    _sms(account, "هل أنتم مفتوحون؟")
    convo = Conversation.objects.get()

    page = operator_client.get(convo.get_absolute_url()).content.decode()

    subtitle = page.split('id="conversation-counts">', 1)[1].split("</span>")[0]
    assert "، " in subtitle  # between "2 incoming SMS" and "0 replies", as Arabic writes it
    assert "," not in subtitle


def test_typing_after_a_refused_reply_withdraws_its_error(operator_client, account):
    _sms(account, "Hello")
    convo = Conversation.objects.get()
    refused = _reply(operator_client, convo, "   ", HTTP_HX_REQUEST="true").content.decode()
    assert "Write the reply first." in refused and "is-invalid" in refused

    # The live preview of the new text answers the stale error lines out of band, as Compose's.
    live = operator_client.post(
        reverse("messaging:conversation_reply", args=[convo.pk]),
        {"text": "Tomorrow at ten", "action": "preview"},
        HTTP_HX_REQUEST="true",
    ).content.decode()

    assert '<div id="reply-text-errors" hx-swap-oob="true"></div>' in live
    assert 'id="reply-problem" hx-swap-oob="true" hidden></div>' in live
    assert "Write the reply first." not in live


def test_a_sent_reply_counts_in_the_header_without_a_reload(
    operator_client, account, script, django_capture_on_commit_callbacks
):
    _sms(account, "Hello")
    convo = Conversation.objects.get()
    assert "0 replies" in operator_client.get(convo.get_absolute_url()).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        answer = _reply(operator_client, convo, "Hi there", HTTP_HX_REQUEST="true")

    html = answer.content.decode()
    counts = html[html.index('id="conversation-counts"') :]
    assert 'hx-swap-oob="true"' in counts[: counts.index(">")]
    assert "1 incoming SMS, 1 reply</span>" in counts
