"""A routed ("Automatic") Compose form's one-time token, once used for any part, answers the
same form posted again with the messages it made: routing is not asked again, so a route
that chose another account since (a breaker took one out) cannot make a second message."""

# ruff: noqa: F811 (the tests take the fixtures `accounts` and `provider`, imported from failover's)
from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from smsportal.messaging.models import Message
from smsportal.routing.models import AccountRouting
from tests.conftest import general_department
from tests.routing.test_failover import accounts, provider, sent_through  # noqa: F401
from tests.support.compose import confirmation_in

pytestmark = pytest.mark.django_db

URL = reverse("messaging:compose")
PHONE = "+96550000001"


@pytest.fixture
def form():
    return {
        "account": "auto",
        "recipients": PHONE,
        "text": "Hello",
        "token": "tok-auto",
        "department": general_department().pk,
    }


@pytest.fixture
def sent(operator_client, accounts, provider, form, django_capture_on_commit_callbacks):
    """The form sent once (through Alpha); then Alpha's breaker takes it out of the routes."""
    alpha, _bravo, _charlie = accounts
    shown = operator_client.post(URL, {**form, "action": "send"})
    confirmed = {**form, "action": "confirm", "confirmation": confirmation_in(shown)}
    with django_capture_on_commit_callbacks(execute=True):
        operator_client.post(URL, confirmed)
    assert sent_through(provider) == [("Alpha", PHONE)]
    AccountRouting.objects.create(account=alpha, out_until=timezone.now() + timedelta(hours=1))
    return confirmed


def _already_sent(page: str) -> bool:
    (message,) = Message.objects.all()
    return f"This form was already sent, as message #{message.pk}: nothing was sent again." in page


def test_confirming_the_same_form_again_sends_nothing_and_says_it_was_sent(
    operator_client, provider, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        again = operator_client.post(URL, sent, follow=True)

    assert sent_through(provider) == [("Alpha", PHONE)]
    assert Message.objects.count() == 1
    assert again.redirect_chain[-1][0] == Message.objects.get().get_absolute_url()
    assert _already_sent(again.content.decode())


def test_opening_the_confirmation_of_the_same_form_again_says_it_was_sent(
    operator_client, provider, sent, form, django_capture_on_commit_callbacks
):
    """ "Send…" again (Back, then the button): no confirmation of a send through Bravo."""
    with django_capture_on_commit_callbacks(execute=True):
        shown = operator_client.post(URL, {**form, "action": "send"}, follow=True)

    page = shown.content.decode()
    assert _already_sent(page)
    assert confirmation_in(shown) == ""
    assert Message.objects.count() == 1 and sent_through(provider) == [("Alpha", PHONE)]


def test_a_new_token_sends_again_through_the_route_now_chosen(
    operator_client, provider, sent, django_capture_on_commit_callbacks
):
    fresh = {**sent, "token": "another-token", "action": "send"}
    shown = operator_client.post(URL, fresh)
    with django_capture_on_commit_callbacks(execute=True):
        operator_client.post(
            URL, {**fresh, "action": "confirm", "confirmation": confirmation_in(shown)}
        )

    assert sent_through(provider) == [("Alpha", PHONE), ("Bravo", PHONE)]
    assert Message.objects.count() == 2


def test_another_persons_form_with_the_same_token_is_not_answered_with_these_messages(
    client, provider, sent, django_capture_on_commit_callbacks
):
    """The parts' keys are under their person's prefix: the same token of someone else is a
    new send of theirs."""
    from django.contrib.auth.models import Group

    from smsportal.core.roles import OPERATOR
    from tests.factories import UserFactory

    other = UserFactory(username="other")
    other.groups.add(Group.objects.get(name=OPERATOR))
    general_department().members.add(other)
    client.force_login(other)
    shown = client.post(URL, {**sent, "action": "send"})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(URL, {**sent, "confirmation": confirmation_in(shown)})

    assert sent_through(provider) == [("Alpha", PHONE), ("Bravo", PHONE)]
    assert Message.objects.count() == 2
