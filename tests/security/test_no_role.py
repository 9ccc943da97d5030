"""A user in no role (logged in, but neither Operator nor Manager) sees nothing of the portal's
data: no balances, costs, account names, messages or incoming SMS, on any page or htmx fragment,
the dashboard included. Every routed URL is visited, as a page and as a fragment."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from smsportal.messaging.inbound import receive
from smsportal.messaging.models import Delivery, Message
from smsportal.providers.backends.base import InboundSMS
from smsportal.sms.status import DeliveryStatus
from tests import factories
from tests.security.test_access import URLS

pytestmark = pytest.mark.django_db

SECRETS = {
    "account name": "Zephyr Secret Account",
    "balance": "98,765.43",
    "balance, plain": "98765.43",
    "message text": "Quarterly bonus text",
    "incoming text": "Reply with the vault code",
    "phone": "9711 9440",
    "cost": "4,321",
}


@pytest.fixture
def portal_data(manager):
    account = factories.ProviderAccountFactory(name=SECRETS["account name"], kind="isms")
    factories.BalanceSnapshotFactory(account=account, amount=Decimal("98765.43"))
    message = Message.objects.create(
        account=account,
        body=SECRETS["message text"],
        encoding="GSM-7",
        segments=1,
        status=Message.Status.DONE,
        created_by=manager,
    )
    Delivery.objects.create(
        message=message,
        account=account,
        phone="+96597119440",
        status=DeliveryStatus.DELIVERED,
        cost=Decimal("4321.00"),
    )
    receive(
        account,
        InboundSMS(sender="+96597119440", recipient="", text=SECRETS["incoming text"], raw={}),
    )
    return account


def leaks(content: bytes) -> list[str]:
    text = content.decode("utf-8", "replace")
    return [name for name, secret in SECRETS.items() if secret in text]


def test_the_data_shows_to_a_manager(manager_client, portal_data):
    # The markers are real: the same pages show them to someone in a role.
    seen = set()
    for url in ("/", "/messages/", "/messages/inbox/", "/credits/"):
        seen.update(leaks(manager_client.get(url).content))
    assert {"account name", "balance", "message text", "incoming text"} <= seen


def test_a_user_without_a_role_sees_none_of_it_anywhere(outsider, portal_data):
    client = Client(raise_request_exception=False)
    client.force_login(outsider)
    found = []
    for name, url in URLS:
        if name.startswith("hooks:"):
            continue
        for label, response in (
            ("page", client.get(url)),
            ("fragment", client.get(url, HTTP_HX_REQUEST="true")),
            ("post", client.post(url)),
        ):
            assert response.status_code < 500, f"{url} ({label}) answered {response.status_code}"
            content = (
                b"".join(response.streaming_content) if response.streaming else response.content
            )
            if leaked := leaks(content):
                found.append(f"{url} ({label}, {response.status_code}): {', '.join(leaked)}")

    assert not found, "\n".join(found)


def test_the_dashboard_tells_a_user_without_a_role_what_to_do(client, outsider, portal_data):
    client.force_login(outsider)

    page = client.get("/").content.decode()

    assert "no role yet" in page
    assert "No role" in page  # the user menu says so, rather than "Operator"
    assert "Welcome to SMS Portal" not in page  # not the first-run steps either
