"""The messages list filtered by sender ID (`?sender=`): with its other filters, on every page,
within the person's departments, and an ordered walk of its own index for the retire
confirmation's link (a sender ID's scheduled messages of one account)."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from smsportal.departments.models import Department
from smsportal.messaging.models import Message
from smsportal.messaging.views import messages as views
from tests.factories import ProviderAccountFactory, SenderIDFactory
from tests.messaging.test_delivery_indexes import plan_of
from tests.messaging.test_message_list import _bodies, _send, _walk

pytestmark = pytest.mark.django_db

LIST = reverse("messaging:message_list")


@pytest.fixture
def queued(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def _from(sender: str, message: Message) -> Message:
    """`message` as sent from `sender` (whether the account lists it is no matter to the list)."""
    Message.objects.filter(pk=message.pk).update(sender=sender)
    return message


def _later(account, body, sender, **kwargs) -> Message:
    when = timezone.now() + timedelta(days=1)
    return _from(sender, _send(account, body, scheduled_for=when, **kwargs))


def test_the_list_shows_one_sender_ids_messages_with_the_other_filters(
    operator_client, account, queued
):
    other = ProviderAccountFactory(kind="kwtsms", name="Other", max_parts=5)
    SenderIDFactory(account=account, value="ACME")
    _later(account, "Acme later", "ACME")
    _from("ACME", _send(account, "Acme now"))
    _later(account, "Promo later", "PROMO")
    _later(other, "Other's acme", "ACME")

    alone = operator_client.get(f"{LIST}?sender=ACME").content.decode()
    combined = operator_client.get(
        f"{LIST}?status=scheduled&account={account.pk}&sender=ACME"
    ).content.decode()

    assert sorted(_bodies(alone)) == ["Acme later", "Acme now", "Other's acme"]
    assert _bodies(combined) == ["Acme later"]
    # The filter bar shows it chosen, so it can be seen and taken off ("Any sender ID").
    select = re.search(r'<select name="sender".*?</select>', combined, re.S).group(0)
    assert '<option value="">Any sender ID</option>' in select
    assert '<option value="ACME" selected dir="auto">ACME</option>' in select
    assert '<option value="PROMO"' not in select  # not a sender ID of any account


def test_a_sender_no_account_lists_stays_chosen_in_the_filter(operator_client, account, queued):
    _from("GONE", _send(account, "Old"))

    page = operator_client.get(f"{LIST}?sender=GONE").content.decode()

    assert _bodies(page) == ["Old"]
    assert '<option value="GONE" selected dir="auto">GONE</option>' in page


def test_an_empty_sender_filter_says_nothing_matches(operator_client, account, queued):
    _from("ACME", _send(account, "Hello"))

    page = operator_client.get(f"{LIST}?sender=NOBODY").content.decode()

    assert _bodies(page) == []
    assert "No messages match this filter." in page


def test_the_sender_filter_holds_on_every_page(operator_client, account, queued, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for i in range(5):
        _later(account, f"Acme {i}", "ACME")
        _later(account, f"Promo {i}", "PROMO")

    pages, _last = _walk(operator_client, "?status=scheduled&sender=ACME")

    assert [b for page in pages for b in page] == [f"Acme {i}" for i in range(4, -1, -1)]
    first = operator_client.get(f"{LIST}?status=scheduled&sender=ACME").content.decode()
    assert "?status=scheduled&amp;sender=ACME&amp;before=" in first


def test_an_operator_filtering_by_sender_sees_no_other_departments_message(
    operator_client, account, queued
):
    bravo = Department.objects.create(name="Bravo")
    _later(account, "General's acme", "ACME")
    _later(account, "Bravo's acme", "ACME", department=bravo)
    everyones = _later(account, "Everyone's acme", "ACME")
    Message.objects.filter(pk=everyones.pk).update(department=None)

    page = operator_client.get(
        f"{LIST}?status=scheduled&account={account.pk}&sender=ACME"
    ).content.decode()

    assert sorted(_bodies(page)) == ["Everyone's acme", "General's acme"]
    assert "Bravo" not in html.unescape(page.split("<main", 1)[1])


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="SQLite's plan (PostgreSQL's follows its statistics)"
)
def test_a_sender_ids_scheduled_messages_are_an_ordered_walk_of_their_own_index(
    operator_client, account, queued
):
    """Through the account's index the page walked every message of the account, sent ones
    too, to find the few still scheduled from one sender ID."""
    for i in range(3):
        _later(account, f"Acme {i}", "ACME")
    url = f"{LIST}?status=scheduled&account={account.pk}&sender=ACME"

    with CaptureQueriesContext(connection) as queries:
        assert operator_client.get(url).status_code == 200
    (page_query,) = [
        q["sql"]
        for q in queries
        if 'FROM "messaging_message"' in q["sql"] and "LIMIT 51" in q["sql"]
    ]
    plan = plan_of(page_query)

    assert "message_sender_recent (account_id=? AND sender=? AND status=?)" in plan, plan
    assert "TEMP B-TREE" not in plan, plan


def _row_of(page: str, body: str) -> str:
    return next(row for row in page.split("<tr>") if f">{body}</a>" in row)


def test_a_scheduled_message_whose_sender_was_retired_is_flagged_in_its_row(
    operator_client, account, queued
):
    SenderIDFactory(account=account, value="ACME")
    SenderIDFactory(account=account, value="OLDCO", status="retired")
    _later(account, "Goes later", "ACME")
    _later(account, "Refused later", "OLDCO")
    _from("OLDCO", _send(account, "Sent before"))  # gone already: nothing to warn of

    page = operator_client.get(LIST).content.decode()

    flagged = _row_of(page, "Refused later")
    assert 'class="badge text-bg-warning sender-unusable"' in flagged
    why = html.unescape(re.search(r'sender-unusable" title="([^"]*)"', flagged)[1])
    assert why.startswith("OLDCO has been retired and can no longer be sent from")
    assert "will not be sent unless its sender ID is changed" in why
    assert "sender-unusable" not in _row_of(page, "Goes later")
    assert "sender-unusable" not in _row_of(page, "Sent before")


def test_flagging_retired_senders_costs_one_query_for_the_whole_page(
    operator_client, account, queued
):
    SenderIDFactory(account=account, value="OLDCO", status="retired")
    _later(account, "Refused 0", "OLDCO")
    operator_client.get(LIST)
    with CaptureQueriesContext(connection) as one:
        operator_client.get(LIST)

    for i in range(1, 8):
        _later(account, f"Refused {i}", f"OLD{i}" if i % 2 else "OLDCO")
    with CaptureQueriesContext(connection) as many:
        page = operator_client.get(LIST).content.decode()

    assert page.count("sender-unusable") == 8
    assert len(many) == len(one)
