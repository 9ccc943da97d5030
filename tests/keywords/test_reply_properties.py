"""Property: for any interleaving of incoming SMS (STOP, START, HELP, rule keywords, plain text,
from a few numbers, at random moments), no number gets more than one automatic reply per quiet
window, and nothing reaches an opted-out number except the one confirmation of its STOP."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smsportal.contacts.models import ContactList, OptOut
from smsportal.keywords.models import AutoReply, Confirmations, KeywordRule, ReplyGate
from smsportal.messaging.inbound import receive
from smsportal.messaging.models import Conversation, Delivery, InboundMessage, Message
from smsportal.providers.backends.base import InboundSMS

pytestmark = pytest.mark.django_db

WINDOW = timedelta(minutes=10)
PHONES = ["+96597119440", "+96597119441", "+96597119442"]
TEXTS = ["STOP", "stop", "إلغاء", "START", "HELP", "JOIN", "join me", "INFO", "hello", "Leave"]

events = st.lists(
    st.tuples(st.sampled_from(PHONES), st.sampled_from(TEXTS), st.integers(0, 15)),
    min_size=1,
    max_size=25,
)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=events)
def test_one_reply_per_window_and_nothing_to_an_opted_out_number(
    events, account, script, monkeypatch, django_capture_on_commit_callbacks
):
    for model in (AutoReply, ReplyGate, Delivery, Message, InboundMessage, Conversation, OptOut):
        model.objects.all().delete()
    script.calls.clear()
    Confirmations.objects.update_or_create(
        account=account, defaults={"window_minutes": 10, "daily_limit": 100}
    )
    offers, _ = ContactList.objects.get_or_create(name="Offers")
    KeywordRule.objects.get_or_create(
        account=account, keyword="JOIN", defaults={"reply": "Welcome", "add_to_list": offers}
    )
    KeywordRule.objects.get_or_create(
        account=account, keyword="LEAVE", defaults={"reply": "Bye", "remove_from_list": offers}
    )

    now = timezone.now()
    reply_times: dict[str, list] = {phone: [] for phone in PHONES}
    for phone, text, minutes_later in events:
        # Each SMS at its own instant (a microsecond apart at least), so that "queued after the
        # opt-out" below is an order in time, not a tie between two events of the same minute.
        now += timedelta(minutes=minutes_later, microseconds=1)
        monkeypatch.setattr("smsportal.keywords.services.timezone.now", lambda at=now: at)
        before = len(script.sent_to())
        with django_capture_on_commit_callbacks(execute=True):
            receive(account, InboundSMS(sender=phone, recipient="", text=text, raw={}))
        reached = script.sent_to()[before:]
        assert set(reached) <= {phone}  # only the sender is answered
        for _ in reached:
            reply_times[phone].append(now)
            optout = OptOut.objects.filter(phone=phone).first()
            if optout is not None:
                # Sent while opted out: it must be this opt-out's one confirmation.
                last = Message.objects.filter(deliveries__phone=phone).latest("id")
                assert optout.confirmation_message_id == last.pk

    for phone, times in reply_times.items():
        for earlier, later in pairwise(times):
            assert later - earlier >= WINDOW, (phone, times)
    for optout in OptOut.objects.all():
        # Every message to an opted-out number after its opt-out is its confirmation.
        after = Delivery.objects.filter(
            phone=optout.phone, queued_at__gte=optout.created_at, status="submitted"
        ).values_list("message_id", flat=True)
        assert set(after) <= {optout.confirmation_message_id}
