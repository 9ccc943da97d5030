"""A worker killed with SIGKILL mid-batch strands only what was on the wire, and nothing goes
twice: at ISMS (which remembers `seqno` for 24 hours) the sweeper sends those again with the same
seqno, so every number gets the message exactly once; at KwtSMS they stay `unknown`. A slow
provider and an eager sweeper never race: a live batch holds a lease the sweeper respects."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from django.db.models import Count

from smsportal.messaging import dispatch
from smsportal.messaging.daily_stats import computed_from_deliveries, current
from smsportal.messaging.models import Delivery, Message
from smsportal.messaging.sending import ResolvedRecipients
from smsportal.messaging.tasks import sweep_stuck_deliveries
from smsportal.sms.status import DeliveryStatus
from tests.faults.conftest import kill, wait_for
from tests.support.sending import create_message

pytestmark = pytest.mark.django_db(transaction=True)

LEASE = 2  # seconds: the workers renew it every 2/3 s while they live


def counts() -> dict[str, int]:
    return dict(Delivery.objects.values_list("status").annotate(n=Count("id")))


def test_a_killed_isms_worker_strands_only_its_requests_on_the_wire_and_they_go_once(
    sandbox, sandbox_account, workers, settings
):
    account = sandbox_account("isms")
    sandbox.world.put_account("isms", "demo-isms", "demo-isms-pass", faults={"delay": 0.2})
    phones = [f"+6012{i:07d}" for i in range(600)]
    message = create_message(
        account=account, body="Crash drill", recipients=ResolvedRecipients(phones=phones)
    )
    first = workers(SENDING_LEASE_SECONDS=str(LEASE), SEND_CONCURRENCY="4")
    wait_for(lambda: Delivery.objects.filter(status=DeliveryStatus.SUBMITTED).count() >= 40)
    kill(first)
    stranded = counts().get(DeliveryStatus.SENDING, 0)
    # One batch of 600 was claimed whole before; now only the requests on the wire are held.
    assert 0 < stranded <= 4, counts()
    assert counts()[DeliveryStatus.QUEUED] > 400

    time.sleep(LEASE + 0.5)  # the dead worker's lease runs out
    settings.SENDING_TIMEOUT_SECONDS = 0
    sweep_stuck_deliveries.call()
    assert counts().get(DeliveryStatus.UNKNOWN, 0) == 0  # sent again with the same seqno
    workers(SENDING_LEASE_SECONDS=str(LEASE))
    wait_for(lambda: Message.objects.get(pk=message.pk).status == Message.Status.DONE, 120)

    assert counts() == {DeliveryStatus.SUBMITTED: 600}
    assert sandbox.world.duplicates() == {}
    assert {r.recipient for r in sandbox.world.received} == {p.lstrip("+") for p in phones}
    assert current() == computed_from_deliveries()


def test_a_killed_kwtsms_worker_leaves_unknown_only_the_requests_on_the_wire(
    sandbox, sandbox_account, workers, settings
):
    account = sandbox_account("kwtsms", options={"transport": "http"})
    sandbox.world.put_account(
        "kwtsms", "demo-kwtsms", "demo-kwtsms-pass", faults={"delay": 0.3}, credit=10**6
    )
    phones = [f"+9655{i:07d}" for i in range(3_000)]
    message = create_message(
        account=account, body="Crash drill", recipients=ResolvedRecipients(phones=phones)
    )
    first = workers(SENDING_LEASE_SECONDS=str(LEASE), SEND_CONCURRENCY="2")
    wait_for(lambda: Delivery.objects.filter(status=DeliveryStatus.SUBMITTED).count() >= 400)
    kill(first)
    stranded = counts().get(DeliveryStatus.SENDING, 0)
    assert stranded <= 2 * 200, counts()  # two requests of 200 at most were on the wire

    time.sleep(LEASE + 0.5)
    settings.SENDING_TIMEOUT_SECONDS = 0
    sweep_stuck_deliveries.call()
    workers(SENDING_LEASE_SECONDS=str(LEASE))
    wait_for(lambda: Message.objects.get(pk=message.pk).status == Message.Status.DONE, 120)

    final = counts()
    assert final.get(DeliveryStatus.UNKNOWN, 0) == stranded
    assert final[DeliveryStatus.SUBMITTED] == 3_000 - stranded
    assert sandbox.world.duplicates() == {}
    assert current() == computed_from_deliveries()


def test_the_sweeper_never_races_a_live_batch_of_a_slow_provider(
    sandbox, sandbox_account, workers, settings
):
    """Two workers, a provider answering in 1 s, a sweep timeout of 0 (shorter than any batch)
    and a sweep every 0.3 s: nothing becomes unknown, nothing is counted twice."""
    account = sandbox_account("kwtsms", options={"transport": "http"})
    sandbox.world.put_account(
        "kwtsms", "demo-kwtsms", "demo-kwtsms-pass", faults={"delay": 1.0}, credit=10**6
    )
    phones = [f"+9655{i:07d}" for i in range(2_000)]
    message = create_message(
        account=account, body="Slow drill", recipients=ResolvedRecipients(phones=phones)
    )
    # One request at a time: a batch of 1,000 takes 5 s, more than twice its lease.
    for _ in range(2):
        workers(SENDING_LEASE_SECONDS=str(LEASE), SEND_CONCURRENCY="1")
    settings.SENDING_TIMEOUT_SECONDS = 0

    stop = threading.Event()
    sweeps = []

    def sweeper():
        try:
            while not stop.is_set():
                sweeps.append(sweep_stuck_deliveries.call())
                time.sleep(0.3)
        finally:
            connection.close()

    thread = threading.Thread(target=sweeper)
    thread.start()
    try:
        wait_for(lambda: Message.objects.get(pk=message.pk).status == Message.Status.DONE, 120)
    finally:
        stop.set()
        thread.join()

    assert len(sweeps) > 10 and sum(sweeps) == 0
    assert counts() == {DeliveryStatus.SUBMITTED: 2_000}
    assert sandbox.world.duplicates() == {}
    summary = current()
    assert summary == computed_from_deliveries()
    assert all(count >= 0 for count, _cost in summary.values())


def test_a_late_answer_after_a_sweep_changes_no_status_and_counts_nothing_twice(
    account, script, django_capture_on_commit_callbacks
):
    """The worker was given up for lost while its request hung; then the answer came."""

    def hang_then_answer(number, recipients):
        # What happens while the request hangs: the lease runs out and the sweeper takes it.
        Delivery.objects.filter(status=DeliveryStatus.SENDING).update(
            lease_until=dispatch.timezone.now() - dispatch.timedelta(seconds=1)
        )
        dispatch.sweep_stuck(dispatch.timedelta(minutes=10))
        connection.close()
        return None  # the provider accepted every recipient

    script.behaviour = hang_then_answer
    with django_capture_on_commit_callbacks(execute=True):
        message = create_message(
            account=account,
            body="Late",
            recipients=ResolvedRecipients(phones=["+96550000001", "+96550000002"]),
        )

    rows = list(Delivery.objects.filter(message=message))
    assert {row.status for row in rows} == {DeliveryStatus.UNKNOWN}
    assert {row.error_code for row in rows} == {"worker-lost"}
    # The answer's id is kept, so a delivery report can still settle it.
    assert {row.provider_message_id for row in rows} == {f"M{row.pk}" for row in rows}
    summary = current()
    assert summary == computed_from_deliveries()
    assert all(count >= 0 for count, _cost in summary.values())
