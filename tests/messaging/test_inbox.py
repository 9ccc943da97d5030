"""The Inbox lists conversations (one per number and account), newest activity first."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from smsportal.messaging.inbound import receive
from smsportal.messaging.models import Conversation, InboundMessage
from smsportal.providers.backends.base import InboundSMS
from tests.factories import ContactFactory, ProviderAccountFactory

pytestmark = pytest.mark.django_db


def _sms(account, text, sender="+96597119440"):
    return receive(account, InboundSMS(sender=sender, recipient="", text=text, raw={}))


@pytest.fixture
def account():
    return ProviderAccountFactory(kind="isms", name="ISMS main")


def test_one_conversation_per_number_and_account(account):
    other = ProviderAccountFactory(kind="isms", name="ISMS second")
    _sms(account, "Hello")
    _sms(account, "Again", sender="96597119440")  # the same number without its +
    _sms(other, "Through the other account")

    rows = {(c.account_id, c.phone): c for c in Conversation.objects.all()}

    assert set(rows) == {(account.pk, "+96597119440"), (other.pk, "+96597119440")}
    mine = rows[(account.pk, "+96597119440")]
    assert (mine.incoming, mine.unread, mine.last_text) == (2, 2, "Again")


def test_the_inbox_lists_conversations_newest_activity_first(operator_client, account):
    _sms(account, "Older", sender="+96597119441")
    _sms(account, "Newer", sender="+96597119442")
    Conversation.objects.filter(phone="+96597119441").update(
        last_at=timezone.now() - timedelta(hours=3)
    )

    page = operator_client.get(reverse("messaging:inbox")).content.decode()

    assert page.index("+96597119442") < page.index("+96597119441")
    assert "3\xa0hours ago" in page
    assert "1 new" in page


def test_the_inbox_is_searched_by_number_or_contact_name(operator_client, account):
    ContactFactory(phone="+96597119441", name="Fatima Al-Sabah")
    _sms(account, "From Fatima", sender="+96597119441")
    _sms(account, "From someone else", sender="+96597119442")

    by_name = operator_client.get(reverse("messaging:inbox"), {"q": "fatima"}).content.decode()
    by_number = operator_client.get(reverse("messaging:inbox"), {"q": "9442"}).content.decode()
    nothing = operator_client.get(reverse("messaging:inbox"), {"q": "nobody"}).content.decode()

    assert "From Fatima" in by_name and "someone else" not in by_name
    assert "someone else" in by_number and "From Fatima" not in by_number
    assert "No conversation matches “<bdi>nobody</bdi>”" in nothing


def test_the_inbox_pages_by_keyset(operator_client, account, monkeypatch):
    monkeypatch.setattr("smsportal.messaging.conversations.INBOX_PAGE", 2)
    for i in range(5):
        _sms(account, f"Message {i}", sender=f"+9659711{i:04d}")
    seen = []
    url = reverse("messaging:inbox")
    for _ in range(3):
        response = operator_client.get(url)
        rows = list(response.context["conversations"])
        seen += [c.phone for c in rows]
        if not response.context["next_page"]:
            break
        url = reverse("messaging:inbox") + response.context["next_page"]

    assert len(seen) == 5 and len(set(seen)) == 5


def test_mark_all_read_empties_every_count(operator_client, account):
    _sms(account, "One")
    _sms(account, "Two", sender="+96597119441")

    operator_client.post(reverse("messaging:inbox_mark_read"))

    assert not InboundMessage.objects.filter(read_at__isnull=True).exists()
    assert not Conversation.objects.filter(unread__gt=0).exists()


def test_an_outsider_cannot_see_the_inbox(client, outsider, account):
    _sms(account, "Private")
    client.force_login(outsider)

    assert client.get(reverse("messaging:inbox")).status_code == 403
    convo = Conversation.objects.get()
    assert client.get(convo.get_absolute_url()).status_code == 403
