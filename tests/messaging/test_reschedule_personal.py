"""Changing the text of a scheduled personalised message: each recipient's own text is made
again from the new template and stored on its delivery with its own parts, so what is sent is
what staff saved; a new text a recipient's values break (too long, a field missing) is refused
saying why, as a new send would be, and the cost, the balance and the quota follow each text."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from smsportal.contacts.models import Contact
from smsportal.messaging.models import Delivery, Message
from smsportal.messaging.sending import (
    CostRises,
    ResolvedRecipients,
    SendRefused,
    reschedule,
)
from smsportal.messaging.tasks import dispatch_message
from smsportal.providers.backends.base import Balance
from smsportal.quotas.models import Hold, Quota
from tests.conftest import general_department
from tests.factories import BalanceSnapshotFactory
from tests.support.sending import create_message

pytestmark = pytest.mark.django_db

ALI, LONG = "+96550000001", "+96550000002"
LONG_NAME = "B" * 150  # "Hi <name>, ..." goes in two parts


@pytest.fixture(autouse=True)
def _tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def contacts() -> ResolvedRecipients:
    department = general_department()
    ali = Contact.objects.create(phone=ALI, name="Ali", department=department)
    long = Contact.objects.create(phone=LONG, name=LONG_NAME, department=department)
    return ResolvedRecipients(phones=[ALI, LONG], contact_ids={ALI: ali.pk, LONG: long.pk})


def scheduled(account, user, recipients: ResolvedRecipients, body="Hi {name|friend}, old offer"):
    return create_message(
        account=account,
        body=body,
        personal=True,
        recipients=recipients,
        scheduled_for=timezone.now() + timedelta(days=1),
        created_by=user,
    )


def stored(message: Message) -> dict[str, tuple[str, int]]:
    rows = message.deliveries.values_list("phone", "text", "segments")
    return {phone: (text, segments) for phone, text, segments in rows}


def test_a_new_text_is_made_again_for_each_recipient_and_sent_as_saved(
    account, script, operator, settings
):
    message = scheduled(account, operator, contacts())
    assert stored(message)[ALI] == ("Hi Ali, old offer", 1)

    reschedule(message, body="Hi {name|friend}, NEW offer", scheduled_for=message.scheduled_for)

    assert stored(message) == {
        ALI: ("Hi Ali, NEW offer", 1),
        LONG: (f"Hi {LONG_NAME}, NEW offer", 2),  # its own parts, not the template's one
    }
    message.refresh_from_db()
    assert (message.body, message.segments) == ("Hi {name|friend}, NEW offer", 2)
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    Message.objects.filter(pk=message.pk).update(scheduled_for=timezone.now())
    message.refresh_from_db()
    dispatch_message.call(message.pk, message.scheduled_for.isoformat())
    assert sorted(script.texts) == ["Hi Ali, NEW offer", f"Hi {LONG_NAME}, NEW offer"]


def test_a_text_too_long_for_one_recipient_is_refused_and_nothing_changes(account, operator):
    account.max_parts = 2
    account.save()
    message = scheduled(account, operator, contacts())
    before = stored(message)

    with pytest.raises(SendRefused, match="1 recipient's text needs more parts than the 2"):
        reschedule(
            message,
            body="Hi {name|friend}, " + "a much longer offer " * 8,
            scheduled_for=message.scheduled_for,
        )

    assert stored(message) == before
    message.refresh_from_db()
    assert message.body == "Hi {name|friend}, old offer"


def test_a_field_a_recipient_lacks_without_fallback_is_refused(account, operator):
    Contact.objects.create(phone="+96550000003", name="", department=general_department())
    message = scheduled(account, operator, ResolvedRecipients(phones=["+96550000003"]))

    with pytest.raises(SendRefused, match=r"\{name\} is empty for 1 recipient"):
        reschedule(message, body="Hi {name}", scheduled_for=message.scheduled_for)


def test_the_cost_is_each_recipients_parts_and_a_dearer_text_needs_confirming_and_the_balance(
    account, script, operator
):
    message = scheduled(account, operator, contacts())
    assert message.estimated_cost == Decimal("0.03")  # 1 + 2 parts at 0.01
    dearer = "Hi {name|friend}, " + "more words " * 15  # Ali 1 part → 2, the long name's 2 → 3

    with pytest.raises(CostRises) as asked:
        reschedule(message, body=dearer, scheduled_for=message.scheduled_for)
    assert asked.value.change.cost == Decimal("0.05")

    script.balance = Balance(amount=Decimal("1"))  # the provider reports balances
    BalanceSnapshotFactory(account=account, amount=Decimal("0.04"))
    with pytest.raises(SendRefused, match=r"needs 0\.05 credits"):
        reschedule(
            message,
            body=dearer,
            scheduled_for=message.scheduled_for,
            accept=asked.value.change.token,
        )
    BalanceSnapshotFactory(account=account, amount=Decimal("1"))
    reschedule(
        message, body=dearer, scheduled_for=message.scheduled_for, accept=asked.value.change.token
    )

    message.refresh_from_db()
    assert message.estimated_cost == Decimal("0.05")
    assert sorted(parts for _text, parts in stored(message).values()) == [2, 3]


def test_the_quota_holds_each_recipients_own_parts(account, operator):
    Quota.objects.create(department=general_department(), parts_per_day=100)
    message = scheduled(account, operator, contacts())
    assert Hold.objects.get(message_id=message.pk).parts == 1 + 2

    # The template counts one part; the long name's own text, two.
    reschedule(message, body="Hi {name|friend}, new offer", scheduled_for=message.scheduled_for)

    assert Hold.objects.get(message_id=message.pk).parts == 1 + 2


def test_a_text_made_from_a_files_columns_is_not_made_again_from_contacts(account, operator):
    """A mail merge's values are not kept: its texts cannot be made again, and a contact of
    the same number would give other values than the file did."""
    Contact.objects.create(phone=ALI, name="Ali", department=general_department())
    merged = ResolvedRecipients(
        phones=[ALI],
        values={ALI: {"phone": ALI, "name": "Mr Ali Hassan"}},
        known_fields=frozenset({"phone", "name"}),
    )
    message = scheduled(account, operator, merged, body="Dear {name}, old offer")

    with pytest.raises(SendRefused, match="made from values the portal no longer has") as refused:
        reschedule(message, body="Dear {name}, NEW offer", scheduled_for=message.scheduled_for)

    assert refused.value.code == "values_gone"
    assert stored(message)[ALI] == ("Dear Mr Ali Hassan, old offer", 1)


def test_the_statements_do_not_grow_with_the_recipients(account, operator):
    def statements(count: int, first: int) -> int:
        phones = [f"+9655{first + i:07d}" for i in range(count)]
        for phone in phones:
            Contact.objects.create(
                phone=phone, name=f"N{phone[-4:]}", department=general_department()
            )
        message = scheduled(account, operator, ResolvedRecipients(phones=phones))
        with CaptureQueriesContext(connection) as queries:
            reschedule(message, body="Hello {name}", scheduled_for=message.scheduled_for)
        assert Delivery.objects.filter(message=message, text__startswith="Hello N").count() == count
        return len(queries)

    assert statements(3, 1000) == statements(60, 2000)


def test_the_edit_page_says_why_a_new_text_is_refused(account, manager, manager_client):
    account.max_parts = 2
    account.save()
    message = scheduled(account, manager, contacts())
    when = timezone.localtime(message.scheduled_for).strftime("%Y-%m-%d %H:%M")
    body = "Hi {name|friend}, " + "a much longer offer " * 8

    response = manager_client.post(
        reverse("messaging:message_edit", args=[message.pk]),
        {"body": body, "scheduled_for": when, "action": "save"},
    )

    assert response.status_code == 200
    errors = re.search(r'id="edit-errors"[^>]*>(.*?)</div>', response.content.decode(), re.S)
    assert "1 recipient&#x27;s text needs more parts than the 2" in errors.group(1)
    message.refresh_from_db()
    assert message.body == "Hi {name|friend}, old offer"
