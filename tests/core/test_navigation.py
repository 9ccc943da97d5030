"""The navigation's counts are registered by the apps that own them: core imports no feature app."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
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


def test_an_htmx_fragment_pays_for_no_navigation(operator_client):
    """The compose preview (a fragment, posted on every keystroke) has no navigation bar, so it
    counts no unread messages; the full page still does."""
    account = ProviderAccountFactory(kind="kwtsms")
    data = {"account": account.pk, "recipients": "+96550000001", "text": "Hi", "action": "preview"}
    compose = reverse("messaging:compose")

    with CaptureQueriesContext(connection) as fragment:
        answer = operator_client.post(compose, data, HTTP_HX_REQUEST="true")
    with CaptureQueriesContext(connection) as page:
        operator_client.get(compose)

    assert answer.status_code == 200 and b"<nav" not in answer.content
    counted = ["messaging_conversation" in query["sql"] for query in fragment.captured_queries]
    assert not any(counted)
    assert any("messaging_conversation" in query["sql"] for query in page.captured_queries)
