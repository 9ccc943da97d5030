"""Confirming an "Automatic" (routed) send goes to what it made: the message, when the routes
chose one account; the Messages list showing only the send's messages, saying how many, when
they chose several."""

from __future__ import annotations

import pytest
from django.urls import reverse

from smsportal.messaging.models import Message
from tests.messaging.test_message_list import _send
from tests.routing.test_automatic import KW1, KW2, SA1, gulf, post  # noqa: F401 (a fixture)
from tests.support.compose import confirmation_in

pytestmark = pytest.mark.django_db

LIST = reverse("messaging:message_list")


@pytest.fixture(autouse=True)
def queued(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def _confirmed(client, **fields):
    fingerprint = confirmation_in(post(client, action="confirm", **fields))
    return post(client, action="confirm", confirmation=fingerprint, **fields)


def test_a_routed_send_that_made_one_message_goes_to_it(operator_client, gulf):  # noqa: F811
    response = _confirmed(operator_client, recipients=f"{KW1}\n{KW2}")

    message = Message.objects.get()
    assert response.status_code == 302
    assert response.url == message.get_absolute_url()
    page = operator_client.get(response.url).content.decode()
    assert f"Message #{message.pk} to 2 recipients was handed to the send queue." in page


def test_a_routed_send_that_made_several_goes_to_the_list_of_them_saying_how_many(
    operator_client,
    gulf,  # noqa: F811
    account,
):
    earlier = _send(account, "An earlier message")

    response = _confirmed(operator_client, recipients=f"{KW1}\n{SA1}")

    made = Message.objects.exclude(pk=earlier.pk).order_by("pk")
    assert made.count() == 2
    assert response.status_code == 302
    ids = ",".join(str(m.pk) for m in made)
    assert response.url == f"{LIST}?ids={ids.replace(',', '%2C')}"
    page = operator_client.get(response.url).content.decode()
    assert "2 messages to 2 recipients (one per account the routes chose)" in page
    assert 'id="ids-filter"' in page
    assert "An earlier message" not in page
    assert page.count('class="text-reset text-decoration-none"') == 2


def test_the_list_ignores_ids_that_are_not_numbers(operator_client, account):
    _send(account, "Kept")

    page = operator_client.get(f"{LIST}?ids=x,²,").content.decode()

    assert "Kept" in page and 'id="ids-filter"' not in page
