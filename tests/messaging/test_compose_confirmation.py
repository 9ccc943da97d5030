"""Compose sends what the confirmation showed, nothing else: a form changed after "Send…" (a list
added, the text lengthened, another account) once went out as it then was, to 201 recipients
for 402 credits under a box that said 1 recipient, 1 credit. Now the send is shown again for
confirming, and only a confirmed, unchanged form is sent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from smsportal.contacts.models import Contact, ContactList
from smsportal.messaging.models import Message
from tests.conftest import general_department
from tests.factories import ProviderAccountFactory
from tests.messaging.test_compose import form
from tests.support.compose import confirmation_in

pytestmark = pytest.mark.django_db

URL = reverse("messaging:compose")
CHANGED = "The message changed after you reviewed it: check the new summary and confirm again."
NOT_CONFIRMED = "Nothing has been sent yet: check the summary and confirm."


@pytest.fixture
def staff(db):
    staff = ContactList.objects.create(name="Staff")
    people = [Contact.objects.create(phone=f"+9655100000{n}") for n in range(1, 4)]
    staff.add([p.pk for p in people])
    return staff


@pytest.fixture(params=["operator", "superuser"])
def sender_client(request, client, operator, admin_user):
    """The two the tester saw it as: an Operator, and a superuser (who may send for any
    department, and is in none here)."""
    client.force_login(operator if request.param == "operator" else admin_user)
    return client


def department() -> dict:
    """General: the Operator's one department, and one a superuser may send for."""
    return {"department": general_department().pk}


def review(client, data: dict):
    """ "Send…": the confirmation page and its fingerprint."""
    shown = client.post(URL, {**data, "action": "send"})
    assert 'id="confirm"' in shown.content.decode()
    return shown, confirmation_in(shown)


def tomorrow() -> str:
    return (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")


CHANGES = {  # made after "Send…", each a change of what the send does
    "a list added": lambda staff: {"lists": [staff.pk]},
    "a number added": lambda staff: {"recipients": "+96550000001\n+96550000002"},
    "the text lengthened": lambda staff: {"text": "Hello " + "x" * 200},
    "the text reworded": lambda staff: {"text": "Jello"},  # the same length, parts and cost
    "another account": lambda staff: {
        "account": ProviderAccountFactory(kind="kwtsms", name="IntelliSoftware line").pk
    },
    "a time to send at": lambda staff: {"scheduled_for": tomorrow()},
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_change_after_the_confirmation_is_shown_again_not_sent(
    sender_client, account, staff, script, change, django_capture_on_commit_callbacks
):
    data = form(account, **department())
    _shown, fingerprint = review(sender_client, data)
    changed = {**data, **CHANGES[change](staff)}

    with django_capture_on_commit_callbacks(execute=True):
        answer = sender_client.post(
            URL, {**changed, "action": "confirm", "confirmation": fingerprint}
        )

    assert not Message.objects.exists()
    assert script.sent_to() == []
    page = answer.content.decode()
    assert answer.status_code == 200
    assert 'id="confirm"' in page and CHANGED in page
    assert confirmation_in(answer) not in ("", fingerprint)  # the new send's


def test_the_new_confirmation_says_the_new_send_and_sends_it_once_confirmed(
    sender_client, account, staff, script, django_capture_on_commit_callbacks
):
    data = form(account, **department())
    shown, fingerprint = review(sender_client, data)
    assert "1 recipient × 1 SMS" in shown.content.decode()
    changed = {**data, "lists": [staff.pk], "text": "Hello " + "x" * 200}

    again = sender_client.post(URL, {**changed, "action": "confirm", "confirmation": fingerprint})
    assert "4 recipients × 2 SMS" in again.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        sent = sender_client.post(
            URL, {**changed, "action": "confirm", "confirmation": confirmation_in(again)}
        )

    message = Message.objects.get()
    assert sent["Location"] == message.get_absolute_url()
    assert (message.recipient_count, message.segments) == (4, 2)


def test_an_unchanged_confirmation_sends_once(
    sender_client, account, script, django_capture_on_commit_callbacks
):
    data = form(account, **department())
    _shown, fingerprint = review(sender_client, data)
    confirmed = {**data, "action": "confirm", "confirmation": fingerprint}

    with django_capture_on_commit_callbacks(execute=True):
        sent = sender_client.post(URL, confirmed)
        again = sender_client.post(URL, confirmed)  # a double click finds the message

    message = Message.objects.get()
    assert sent["Location"] == again["Location"] == message.get_absolute_url()
    assert script.sent_to() == ["+96550000001"]


@pytest.mark.parametrize("fingerprint", [None, "", "0" * 64])
def test_a_send_without_the_confirmations_fingerprint_is_only_confirmed(
    operator_client, account, script, fingerprint
):
    crafted = form(account, action="confirm")
    if fingerprint is not None:
        crafted["confirmation"] = fingerprint

    answer = operator_client.post(URL, crafted)

    assert not Message.objects.exists()
    page = answer.content.decode()
    assert 'id="confirm"' in page
    assert (CHANGED if fingerprint else NOT_CONFIRMED) in page


def test_a_fingerprint_is_the_persons_who_was_shown_it(client, operator, manager, account, script):
    client.force_login(manager)
    _shown, fingerprint = review(client, form(account))

    client.force_login(operator)
    answer = client.post(URL, form(account, action="confirm", confirmation=fingerprint))

    assert not Message.objects.exists()
    assert CHANGED in answer.content.decode()


def test_a_list_whose_members_changed_since_is_shown_again(operator_client, account, staff, script):
    data = form(account, lists=[staff.pk])
    _shown, fingerprint = review(operator_client, data)
    staff.add([Contact.objects.create(phone="+96551000009").pk])

    answer = operator_client.post(URL, {**data, "action": "confirm", "confirmation": fingerprint})

    assert not Message.objects.exists()
    assert "5 recipients × 1 SMS" in answer.content.decode()
