"""The navigation's counts are registered by the apps that own them: core imports no feature app."""

from __future__ import annotations

import pytest
from django.urls import reverse

from smsportal.core import navigation
from smsportal.messaging.inbound import receive
from smsportal.messaging.views.inbox import unread_count
from smsportal.providers.backends.base import InboundSMS
from tests.factories import ProviderAccountFactory

pytestmark = pytest.mark.django_db


def _sms(account, text, sender):
    return receive(account, InboundSMS(sender=sender, recipient="", text=text, raw={}))


def test_the_navigation_counts_unread_messages_beside_the_inbox(operator_client):
    account = ProviderAccountFactory(kind="isms")
    _sms(account, "One", sender="+96597119443")
    _sms(account, "Two", sender="+96597119444")

    page = operator_client.get(reverse("messaging:message_list")).content.decode()

    assert '<span class="badge rounded-pill text-bg-danger" title="unread">2</span>' in page


def test_the_inbox_badge_is_registered_by_messaging_not_imported_by_core():
    assert navigation.BADGES["messaging:inbox"] is unread_count
    with pytest.raises(ValueError, match="No navigation link"):
        navigation.register_badge("messaging:nowhere", unread_count)
