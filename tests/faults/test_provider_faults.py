"""Every provider fault the sandbox can play, on every provider, through the real dispatch: the
state each delivery ends in, and the reason staff read on the message page."""

from __future__ import annotations

import pytest
from django.utils.html import escape

from smsportal.messaging.models import Delivery
from smsportal.messaging.sending import ResolvedRecipients
from smsportal.providers.backends import http, smscentre
from smsportal.providers.sandbox.world import demo_password
from smsportal.sms.status import DeliveryStatus
from tests.support.sending import create_message

pytestmark = pytest.mark.django_db

KINDS = ["kalasms", "kwtsms", "isms", "intellisoftware", "smscentre"]
PHONES = [f"+9659711{i:04d}" for i in range(6)]
SUBMITTED, FAILED, UNKNOWN = DeliveryStatus.SUBMITTED, DeliveryStatus.FAILED, DeliveryStatus.UNKNOWN

# fault -> the one status every delivery must end in
WHOLE_REQUEST = {
    "wrong_password": FAILED,  # refused before anything was sent
    "no_credit": FAILED,
    "http_500": UNKNOWN,  # the request arrived; whether it was sent, nobody can say
    "garbage": UNKNOWN,
    "timeout": UNKNOWN,
    "reset": UNKNOWN,
    "delay": SUBMITTED,  # slow, but within the timeout
}


@pytest.fixture(autouse=True)
def short_timeouts(monkeypatch):
    monkeypatch.setattr(http, "READ_TIMEOUT", 0.6)
    monkeypatch.setattr(smscentre, "TIMEOUT", 0.6)
    monkeypatch.setattr("smsportal.messaging.dispatch.RETRY_BACKOFF", 0.01)


def send(account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = create_message(
            account=account, body="Fault drill", recipients=ResolvedRecipients(phones=PHONES)
        )
    return message


@pytest.mark.parametrize("fault", sorted(WHOLE_REQUEST))
@pytest.mark.parametrize("kind", KINDS)
def test_a_provider_fault_ends_every_delivery_in_the_right_state_with_a_reason(
    kind, fault, sandbox, sandbox_account, manager_client, django_capture_on_commit_callbacks
):
    account = sandbox_account(kind)
    value = 0.2 if fault == "delay" else True
    sandbox.world.put_account(kind, f"demo-{kind}", demo_password(kind), faults={fault: value})

    message = send(account, django_capture_on_commit_callbacks)

    statuses = set(Delivery.objects.filter(message=message).values_list("status", flat=True))
    expected = WHOLE_REQUEST[fault]
    if kind == "smscentre" and fault == "http_500":
        assert statuses == {FAILED}  # SMPP has no 500: the SMSC refused each submit_sm
    elif kind == "smscentre" and fault in ("timeout", "reset", "garbage"):
        # One link carries the batch, up to 10 submits on the wire at once: those on the wire
        # when it broke are unknown; any never written were not sent.
        assert UNKNOWN in statuses and statuses <= {UNKNOWN, FAILED}
    else:
        assert statuses == {expected}
    message.refresh_from_db()
    assert message.status == "done"
    if expected != SUBMITTED:
        delivery = Delivery.objects.filter(message=message).first()
        assert delivery.error_text
        page = manager_client.get(message.get_absolute_url()).content.decode()
        assert escape(delivery.error_text) in page
    if fault in ("wrong_password", "no_credit"):
        assert sandbox.world.received == []


@pytest.mark.parametrize("kind", KINDS)
def test_invalid_numbers_fail_alone_with_the_providers_reason(
    kind, sandbox, sandbox_account, django_capture_on_commit_callbacks
):
    account = sandbox_account(kind)
    sandbox.world.put_account(
        kind, f"demo-{kind}", demo_password(kind), faults={"invalid_fraction": 0.5}
    )
    message = send(account, django_capture_on_commit_callbacks)
    rows = list(Delivery.objects.filter(message=message).values_list("status", "error_text"))
    if kind == "kwtsms":
        # KwtSMS answers how many numbers it took, not which: the batch is honestly unknown.
        assert {status for status, _ in rows} == {UNKNOWN}
        assert "without saying which" in rows[0][1]
        return
    assert {status for status, _ in rows} <= {SUBMITTED, FAILED}
    failed = [text for status, text in rows if status == FAILED]
    received = {r.recipient for r in sandbox.world.received}
    assert len(received) == len(rows) - len(failed)  # nothing reported sent that did not arrive
    assert all(failed)
