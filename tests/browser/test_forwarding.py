"""In the browser, as Operator, Manager and superuser: an endpoint (a local HTTP server on
127.0.0.1) is added where the role may, receives signed events, its log shows the attempts; a
failing endpoint is retried and then disabled, with the reason on its page.

With SCREENSHOTS=<folder> set, each page is saved at 1366 and 390 px wide."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from smsportal.forwarding.models import Endpoint, Event
from smsportal.forwarding.tasks import forward_due
from smsportal.messaging.inbound import receive
from smsportal.providers.backends.base import InboundSMS
from tests.browser.test_opt_outs_and_retry import shoot
from tests.factories import PASSWORD
from tests.forwarding.test_forwarding import verify
from tests.support.receiver import start_receiver

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)


@pytest.fixture
def receiver(settings):
    settings.FORWARDING_PRIVATE_HOSTS = ["127.0.0.1"]
    receiver, server = start_receiver()
    yield receiver
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("role", ["operator", "manager", "superuser"])
def test_an_endpoint_receives_signed_events_and_a_failing_one_is_disabled(
    page, live_server, login, role, request, account, receiver
):
    user = request.getfixturevalue(role)
    login(user, PASSWORD)
    if role == "operator":
        endpoint = Endpoint(name="CRM", url=receiver.url, on_incoming=True)
        secret = endpoint.set_new_secret()
        endpoint.save()
        page.goto(f"{live_server.url}/forwarding/")
        expect(page.get_by_role("link", name="New endpoint")).to_have_count(0)
    else:
        page.goto(f"{live_server.url}/forwarding/")
        page.get_by_role("link", name="New endpoint").click()
        page.wait_for_load_state()  # htmx listens from the load on: a change before it is lost
        page.get_by_label("Name").fill("CRM")
        page.get_by_label("URL").fill("http://10.0.0.5/hook")
        page.get_by_role("button", name="Save").click()
        expect(page.locator("#endpoint-form")).to_contain_text("is not a public address")
        shoot(page, f"endpoint-refused-{role}")
        page.get_by_label("URL").fill(receiver.url)
        page.get_by_role("button", name="Save").click()
        secret = page.locator("#secret-value").inner_text()
        assert secret.startswith("whsec_")
        shoot(page, f"endpoint-new-{role}")
        endpoint = Endpoint.objects.get()

    receive(account, InboundSMS(sender="96597119440", recipient="1234", text="JOIN", raw={}))
    page.goto(f"{live_server.url}{endpoint.get_absolute_url()}")
    expect(page.locator("[data-attempt][data-ok=yes]")).to_have_count(1)
    [delivered] = receiver.requests
    assert json.loads(delivered.body)["data"]["text"] == "JOIN"
    assert verify(secret, delivered.headers, delivered.body)

    receiver.status = 503
    if role == "operator":
        expect(page.locator("#send-test")).to_have_count(0)
        receive(account, InboundSMS(sender="96597119440", recipient="", text="Again", raw={}))
    else:
        page.get_by_role("button", name="Send test event").click()
    expect(page.locator("[data-attempt][data-ok=no]")).to_have_count(1)
    expect(page.locator("#pending-events")).to_contain_text("1 event waiting")

    # The scheduler's sweep, later: a retry, then the 24 hours are over.
    Event.objects.filter(status="pending").update(next_attempt_at=timezone.now())
    forward_due.call()
    Event.objects.filter(status="pending").update(
        next_attempt_at=timezone.now(), created_at=timezone.now() - timedelta(hours=25)
    )
    forward_due.call()
    page.reload()
    expect(page.locator("[data-attempt][data-ok=no]")).to_have_count(3)
    expect(page.locator("#endpoint-disabled")).to_have_text("disabled")
    expect(page.locator("#disabled-reason")).to_contain_text("failed 3 times over 24 hours")
    expect(page.locator("#disabled-reason")).to_contain_text("HTTP 503")
    shoot(page, f"endpoint-disabled-{role}")
    page.goto(f"{live_server.url}/forwarding/")
    expect(page.locator("[data-endpoint] [data-disabled]")).to_have_count(1)
    shoot(page, f"endpoints-{role}")
