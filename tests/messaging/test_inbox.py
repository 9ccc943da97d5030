from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from smsportal.messaging.inbound import receive
from smsportal.messaging.models import InboundMessage
from smsportal.providers.backends.base import InboundSMS
from tests.factories import ProviderAccountFactory

pytestmark = pytest.mark.django_db


def _sms(account, text, sender="+96597119440"):
    return receive(account, InboundSMS(sender=sender, recipient="", text=text, raw={}))


@pytest.fixture
def account():
    return ProviderAccountFactory(kind="isms", name="ISMS main")


def test_reading_the_inbox_marks_its_messages_read(operator_client, account):
    _sms(account, "Thanks!")

    first = operator_client.get(reverse("messaging:inbox")).content.decode()
    second = operator_client.get(reverse("messaging:inbox")).content.decode()

    assert '<span class="badge text-bg-primary">new</span>' in first  # new this once
    assert '<span class="badge text-bg-primary">new</span>' not in second
    assert not InboundMessage.objects.filter(read_at__isnull=True).exists()


def test_only_the_page_read_is_marked_read(operator_client, account):
    for i in range(51):
        _sms(account, f"Message {i}", sender=f"+9659711{i:04d}")

    operator_client.get(reverse("messaging:inbox"))

    assert InboundMessage.objects.filter(read_at__isnull=True).count() == 1


def test_a_stop_message_says_the_sender_opted_out(operator_client, account):
    _sms(account, "STOP")
    _sms(account, "start", sender="+96597119441")
    _sms(account, "Stop by tomorrow?", sender="+96597119442")

    page = operator_client.get(reverse("messaging:inbox")).content.decode()

    assert page.count("data-keyword-effect>opted out<") == 2  # STOP, and "Stop by ..." too
    assert "data-keyword-effect>opted in again<" in page


def test_a_message_of_a_moment_ago_reads_just_now(operator_client, account):
    _sms(account, "Hello")
    old = _sms(account, "Earlier", sender="+96597119443")
    InboundMessage.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(hours=3))

    page = operator_client.get(reverse("messaging:inbox")).content.decode()

    assert "just now" in page
    assert "3\xa0hours ago" in page  # timesince keeps the number and its unit together
    assert "0 minutes" not in page
    assert "to ?" not in page
