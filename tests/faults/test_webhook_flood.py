"""A flood of delivery reports while a send runs: 10,000 ISMS callbacks, 10% of them repeats (some
contradicting the first), 5% for ids the portal never sent, in random order. Every delivery ends
in the status its first final report gave, nothing is lost, nothing is applied twice."""

from __future__ import annotations

import random
import threading

import pytest
from django.db import connection
from django.db.models import Count

from smsportal.messaging import dispatch
from smsportal.messaging.daily_stats import Transitions, day_of
from smsportal.messaging.models import Delivery, DeliveryEvent, Message, UnmatchedReport
from smsportal.messaging.sending import ResolvedRecipients
from smsportal.sms.status import DeliveryStatus
from tests.support.sending import create_message

pytestmark = pytest.mark.django_db(transaction=True)

SENT = 8_500
FINAL = {
    "6": DeliveryStatus.DELIVERED,
    "7": DeliveryStatus.UNDELIVERED,
    "8": DeliveryStatus.EXPIRED,
}


def submitted_message(account) -> Message:
    message = Message.objects.create(
        account=account, body="x", encoding="GSM-7", segments=1, status=Message.Status.DONE
    )
    Delivery.objects.bulk_create(
        Delivery(
            message=message,
            account=account,
            phone=f"+6012{i:07d}",
            status=DeliveryStatus.SUBMITTED,
            provider_message_id=f"D{i}",
        )
        for i in range(SENT)
    )
    moves = Transitions()
    day = day_of(Delivery.objects.first().queued_at)
    moves.add(day, account.pk, message.department_id, "submitted", count=SENT)
    moves.apply()
    return message


def test_ten_thousand_reports_in_random_order_during_a_send(client, sandbox, sandbox_account):
    account = sandbox_account("isms")
    submitted_message(account)
    rng = random.Random(42)
    reports = [(f"D{i}", rng.choice(list(FINAL))) for i in range(SENT)]
    reports += [(f"D{rng.randrange(SENT)}", rng.choice([*FINAL, "11"])) for _ in range(1_000)]
    reports += [(f"X{i}", "6") for i in range(500)]
    rng.shuffle(reports)
    expected = {}
    for msgid, status in reports:
        if msgid.startswith("D") and status in FINAL:
            expected.setdefault(msgid, FINAL[status])

    # Meanwhile, another message goes out through the sandbox.
    sending = create_message(
        account=account,
        body="During the flood",
        recipients=ResolvedRecipients(phones=[f"+6013{i:07d}" for i in range(300)]),
    )
    batches = dispatch.start(sending.pk)

    def send_all():
        try:
            for first, last in batches:
                dispatch.send_batch(sending.pk, first, last)
        finally:
            connection.close()

    sender = threading.Thread(target=send_all)
    sender.start()
    url = f"/hooks/isms/{account.webhook_token}/dlr"
    answers = [
        client.get(url, {"MsgId": msgid, "Status": status, "Sender": "63633"}).status_code
        for msgid, status in reports
    ]
    sender.join(timeout=120)

    assert set(answers) == {200}
    actual = dict(
        Delivery.objects.filter(provider_message_id__startswith="D").values_list(
            "provider_message_id", "status"
        )
    )
    assert actual == expected
    assert DeliveryEvent.objects.filter(source="webhook").count() == SENT  # one move each
    assert UnmatchedReport.objects.count() == 500
    sending.refresh_from_db()
    assert sending.status == "done"
    assert dict(sending.deliveries.values_list("status").annotate(n=Count("id"))) == {
        "submitted": 300
    }
    assert sandbox.world.duplicates() == {}
