"""Failover over real sockets: account A's provider is down (nothing listens: connection
refused), so every delivery of the routed message ends `submitted` through account B on the
sandbox, with both attempts in its history, and B received each number once."""

from __future__ import annotations

import pytest

from smsportal.messaging import routed
from smsportal.messaging.models import Delivery, Message
from smsportal.messaging.sending import ResolvedRecipients
from smsportal.routing.models import Route, RouteAccount
from tests.conftest import general_department
from tests.support.postgres import free_port

pytestmark = pytest.mark.django_db

PHONES = [f"+9659711{i:04d}" for i in range(12)]


def test_a_provider_that_is_down_fails_over_to_the_next_account(
    sandbox, sandbox_account, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr("smsportal.messaging.dispatch.RETRY_BACKOFF", 0.01)
    down = sandbox_account("kwtsms", name="KwtSMS (down)")
    down.base_url = f"http://127.0.0.1:{free_port()}/API/"  # nothing listens there
    down.save()
    spare = sandbox_account("isms", name="ISMS spare")
    route = Route.objects.create(name="Kuwait", destinations="KW", position=1)
    RouteAccount.objects.create(route=route, account=down, position=0)
    RouteAccount.objects.create(route=route, account=spare, position=1)

    with django_capture_on_commit_callbacks(execute=True):
        draft = routed.prepare_routed(
            body="Failover drill",
            recipients=ResolvedRecipients(phones=PHONES),
            department=general_department(),
        )
        [message] = routed.send_routed(draft)

    assert message.account == down
    rows = list(Delivery.objects.filter(message=message).prefetch_related("events"))
    assert {(r.status, r.account_id, r.attempts) for r in rows} == {("submitted", spare.pk, 2)}
    for row in rows:
        history = [(e.from_status, e.to_status) for e in row.events.order_by("id")]
        assert history == [("sending", "failed"), ("failed", "queued"), ("sending", "submitted")]
        assert "Not sent through KwtSMS (down)" in row.events.order_by("id")[1].description
    received = [r.recipient.lstrip("+") for r in sandbox.world.received]
    assert sorted(received) == sorted(p.lstrip("+") for p in PHONES)  # each once
    message.refresh_from_db()
    assert message.status == Message.Status.DONE
