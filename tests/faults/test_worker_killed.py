"""A worker killed with SIGKILL in the middle of a 20,000-recipient send, then restarted: every
delivery ends final or `unknown` with a reason, no phone got the message twice, and the message
reaches `done`."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db.models import Count

from smsportal.messaging.models import Delivery, Message
from smsportal.messaging.sending import ResolvedRecipients
from smsportal.messaging.tasks import sweep_stuck_deliveries
from smsportal.sms.status import DeliveryStatus
from tests.faults.conftest import kill, wait_for
from tests.support.sending import create_message

pytestmark = pytest.mark.django_db(transaction=True)

RECIPIENTS = 20_000


def test_a_killed_worker_loses_nothing_and_sends_nothing_twice(
    sandbox, sandbox_account, workers, settings
):
    account = sandbox_account("kwtsms", options={"transport": "http"})
    # Slow answers, so the kill lands while batches are on the wire.
    sandbox.world.put_account(
        "kwtsms", "demo-kwtsms", "demo-kwtsms-pass", faults={"delay": 0.15}, credit=10**6
    )
    phones = [f"+9655{i:07d}" for i in range(RECIPIENTS)]
    message = create_message(
        account=account, body="Fault drill", recipients=ResolvedRecipients(phones=phones)
    )
    first = workers(SENDING_LEASE_SECONDS="2")
    wait_for(lambda: Delivery.objects.filter(status=DeliveryStatus.SUBMITTED).count() >= 2_000)
    kill(first)
    in_flight = Delivery.objects.filter(status=DeliveryStatus.SENDING).count()
    assert Delivery.objects.filter(status=DeliveryStatus.QUEUED).exists()  # killed mid-send

    # What the scheduler does every minute, once the dead worker's lease ran out: claimed
    # deliveries become unknown, never re-sent; the batches it never started are enqueued again.
    time.sleep(2.5)
    settings.SENDING_TIMEOUT_SECONDS = 0
    sweep_stuck_deliveries.call()
    workers()

    message.refresh_from_db()
    wait_for(lambda: Message.objects.get(pk=message.pk).status == Message.Status.DONE, 120)
    counts = dict(Delivery.objects.values_list("status").annotate(n=Count("id")))
    failed = list(
        Delivery.objects.filter(status=DeliveryStatus.FAILED)
        .values_list("error_code", "error_text")
        .distinct()[:5]
    )
    assert set(counts) <= {DeliveryStatus.SUBMITTED, DeliveryStatus.UNKNOWN}, (counts, failed)
    assert counts.get(DeliveryStatus.UNKNOWN, 0) == in_flight
    assert not Delivery.objects.filter(status=DeliveryStatus.UNKNOWN, error_text="").exists()
    assert sandbox.world.duplicates() == {}
    received = {r.recipient for r in sandbox.world.received}
    submitted = set(
        Delivery.objects.filter(status=DeliveryStatus.SUBMITTED).values_list("phone", flat=True)
    )
    assert {p.lstrip("+") for p in submitted} <= received
    assert timedelta(0) <= (message.completed_at or message.created_at) - message.created_at
