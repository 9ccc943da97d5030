"""bench/dlr_ingest.py's floor (bench/dlr_floor.py) does for a delivery report what the portal's
webhook does on PostgreSQL, without Django's request machinery: the same delivery moved, the same
event, the same daily counters, the account's last callback noted; and it refuses what the
webhook refuses. A floor doing less than the portal would flatter nobody but would make the
ratio meaningless."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from psycopg.conninfo import make_conninfo

from bench.dlr_floor import Floor, floor_spec
from smsportal.messaging.daily_stats import (
    Transitions,
    computed_from_deliveries,
    current,
    day_of,
)
from smsportal.messaging.models import Delivery, DeliveryEvent, Message, UnmatchedReport
from tests.factories import ProviderAccountFactory

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the floor runs apply_sql's statement"
    ),
    pytest.mark.django_db(transaction=True),  # the floor has its own connection
]


@pytest.fixture
def floor():
    db = connection.settings_dict
    conninfo = make_conninfo(
        host=db["HOST"],
        port=db["PORT"],
        user=db["USER"],
        password=db["PASSWORD"],
        dbname=db["NAME"],
    )
    return Floor(floor_spec(), conninfo)


@pytest.fixture
def account():
    account = ProviderAccountFactory(kind="isms")
    message = Message.objects.create(
        account=account, body="x", encoding="GSM-7", segments=1, status=Message.Status.DONE
    )
    counters = Transitions()
    for n in (1, 2, 3):
        delivery = Delivery.objects.create(
            message=message,
            account=account,
            phone=f"+9655000000{n}",
            status="submitted",
            provider_message_id=f"D{n}",
            cost=Decimal("0.0100"),
        )
        where = (day_of(delivery.queued_at), account.pk, message.department_id)
        counters.add(*where, "submitted", "", cost=delivery.cost)
    counters.apply()  # as the send path counts them
    assert current() == computed_from_deliveries()
    return account


def call(app, path: str, query: str) -> tuple[str, bytes]:
    answer = {}
    body = app(
        {"PATH_INFO": path, "QUERY_STRING": query},
        lambda status, headers: answer.update(status=status, headers=dict(headers)),
    )
    assert answer["headers"]["Content-Length"] == str(len(b"".join(body)))
    return answer["status"], b"".join(body)


def test_a_report_through_the_floor_changes_what_the_webhook_changes(floor, account, client):
    hook = f"/hooks/isms/{account.webhook_token}/dlr"

    assert call(floor, hook, "MsgId=D1&Status=7&Sender=63633") == ("200 OK", b"OK\n")
    account.refresh_from_db()
    assert account.last_report_at is not None
    assert client.get(hook, {"MsgId": "D2", "Status": "7", "Sender": "63633"}).status_code == 200

    by_floor, by_portal = (Delivery.objects.get(provider_message_id=i) for i in ("D1", "D2"))
    for field in ("status", "error_code", "error_text"):
        assert getattr(by_floor, field) == getattr(by_portal, field)
    assert by_floor.status == "undelivered" and by_floor.final_at and by_portal.final_at
    events = {
        e.delivery_id: e for e in DeliveryEvent.objects.filter(delivery__in=[by_floor, by_portal])
    }
    assert len(events) == 2 and DeliveryEvent.objects.count() == 2
    floor_event, portal_event = events[by_floor.pk], events[by_portal.pk]
    for field in ("source", "from_status", "to_status", "provider_status", "description"):
        assert getattr(floor_event, field) == getattr(portal_event, field)
    assert floor_event.raw == {**portal_event.raw, "MsgId": "D1"}
    assert current() == computed_from_deliveries()  # the daily counters moved in step

    # The same report again changes nothing, as in the portal.
    assert call(floor, hook, "MsgId=D1&Status=6")[0] == "200 OK"
    assert Delivery.objects.get(provider_message_id="D1").status == "undelivered"
    assert DeliveryEvent.objects.count() == 2


@pytest.mark.parametrize(
    ("path", "query", "status"),
    [
        ("/hooks/isms/{token}/dlr", "MsgId=D3&Status=99", "400 Bad Request"),  # unknown status
        ("/hooks/isms/{token}/dlr", "Status=6", "400 Bad Request"),  # no MsgId
        ("/hooks/isms/{token}/dlr", f"MsgId={'D' * 65}&Status=6", "400 Bad Request"),
        ("/hooks/isms/not-the-token/dlr", "MsgId=D3&Status=6", "400 Bad Request"),
        ("/hooks/isms/{token}/incoming", "MsgId=D3&Status=6", "404 Not Found"),
        ("/hooks/isms/{token}/dlr", "MsgId=D404&Status=6", "404 Not Found"),  # matches nothing
    ],
)
def test_the_floor_refuses_and_changes_nothing(floor, account, path, query, status):
    answer, _ = call(floor, path.format(token=account.webhook_token), query)

    assert answer == status
    assert not DeliveryEvent.objects.exists()
    assert set(Delivery.objects.values_list("status", flat=True)) == {"submitted"}
    assert not UnmatchedReport.objects.exists()
