"""The worker's claim and outcome writes are set-based: a batch's ids go to the database as one
parameter, and its outcomes as statements of many rows, never a statement run per
delivery — and they still land only on the rows the batch holds."""

from __future__ import annotations

import pytest
from django.db import connection

from smsportal.messaging import dispatch
from smsportal.messaging.models import Delivery, DeliveryEvent, MessageStatusCount
from smsportal.messaging.sending import ResolvedRecipients, prepare, send
from smsportal.sms.status import DeliveryStatus
from tests.factories import ProviderAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def message(monkeypatch):
    monkeypatch.setattr("smsportal.messaging.models.Message.send", lambda self: None)
    account = ProviderAccountFactory(kind="kwtsms", price_per_segment=0)
    phones = [f"+9655{i:07d}" for i in range(1200)]
    return send(prepare(account=account, body="Hi", recipients=ResolvedRecipients(phones=phones)))


class Statements:
    def __init__(self) -> None:
        self.seen: list[tuple[str, int, bool]] = []

    def __call__(self, execute, sql, params, many, context):
        self.seen.append((sql, len(params or ()), many))
        return execute(sql, params, many, context)


def test_a_claim_sends_its_ids_as_one_parameter(message):
    ids = list(Delivery.objects.filter(message=message).values_list("id", flat=True))
    statements = Statements()

    with connection.execute_wrapper(statements):
        claimed = dispatch.claim(message.pk, ids[:1000], "token-1")

    assert [row.id for row in claimed] == ids[:1000]
    assert claimed[0].phone == "+96550000000"
    assert claimed[0].reference == str(ids[0])
    assert max(count for _sql, count, _many in statements.seen) < 20


def test_outcomes_are_written_in_statements_of_many_rows_only_to_held_rows(message):
    ids = list(Delivery.objects.filter(message=message).values_list("id", flat=True))
    claimed = dispatch.claim(message.pk, ids[:1100], "token-1")
    # The sweeper took one row meanwhile: its late outcome must not land.
    Delivery.objects.filter(pk=ids[5]).update(status=DeliveryStatus.UNKNOWN, claim="sweeper")
    outcomes = [
        dispatch.Outcome(row.id, DeliveryStatus.SUBMITTED, provider_message_id=f"p-{row.id}")
        if n % 3
        else dispatch.Outcome(row.id, DeliveryStatus.FAILED, error_code="bad", error_text="No.")
        for n, row in enumerate(claimed)
    ]
    statements = Statements()

    with connection.execute_wrapper(statements):
        written = dispatch.record(message, "token-1", claimed, outcomes)

    assert written == 1099
    assert not any(many for _sql, _count, many in statements.seen)
    updates = [
        sql
        for sql, _count, _many in statements.seen
        if sql.startswith("UPDATE") and ("FROM (VALUES" in sql or "FROM unnest" in sql)
    ]
    # SQLite: 1,000 rows a statement; PostgreSQL: the batch in one (its trigger runs once).
    assert len(updates) == (2 if connection.vendor == "sqlite" else 1), updates
    rows = dict(Delivery.objects.filter(id__in=ids[:12]).values_list("id", "status").order_by("id"))
    assert rows[ids[0]] == DeliveryStatus.FAILED
    assert rows[ids[1]] == DeliveryStatus.SUBMITTED
    assert rows[ids[5]] == DeliveryStatus.UNKNOWN
    second = Delivery.objects.get(pk=ids[1])
    assert (second.provider_message_id, second.lease_until, second.error_code) == (
        f"p-{ids[1]}",
        None,
        "",
    )
    assert second.submitted_at is not None and second.final_at is None
    failed = Delivery.objects.get(pk=ids[3])
    assert (failed.error_code, failed.error_text, failed.final_at is not None) == (
        "bad",
        "No.",
        True,
    )
    counts = dict(
        MessageStatusCount.objects.filter(message=message, count__gt=0).values_list(
            "status", "count"
        )
    )
    assert counts == {"submitted": 732, "failed": 367, "unknown": 1, "queued": 100}


def test_values_a_batch_shares_go_once_only_the_varying_ones_per_row(message):
    """A KwtSMS answer gives a request's rows one status, reason, time and cost: each row
    sends only its provider id and its id; what the rows share is one parameter."""
    ids = list(Delivery.objects.filter(message=message).values_list("id", flat=True))
    claimed = dispatch.claim(message.pk, ids[:1100], "token-1")
    outcomes = [
        dispatch.Outcome(row.id, DeliveryStatus.SUBMITTED, provider_message_id=f"m-{n // 200}")
        for n, row in enumerate(claimed)
    ]
    statements = Statements()

    with connection.execute_wrapper(statements):
        written = dispatch.record(message, "token-1", claimed, outcomes)

    assert written == 1100
    updates = [
        (sql, count)
        for sql, count, _many in statements.seen
        if sql.startswith("UPDATE") and ("FROM (VALUES" in sql or "FROM unnest" in sql)
    ]
    shared = len(dispatch.OUTCOME_FIELDS) - 1  # all but the provider's id
    if connection.vendor == "sqlite":
        # 1,000 rows: two values a row, the shared ones, the claim and the status; then 100
        # rows of one request, which share the provider's id too: only the id varies.
        every = len(dispatch.OUTCOME_FIELDS)
        assert [count for _sql, count in updates] == [shared + 2 * 1000 + 2, every + 100 + 2]
    else:
        [(sql, count)] = updates
        assert "unnest(%s::text[], %s::bigint[])" in sql and count == shared + 2 + 2
    rows = list(
        Delivery.objects.filter(id__in=ids[:1100])
        .order_by("id")
        .values_list("status", "provider_message_id", "error_code", "lease_until", "final_at")
    )
    assert rows[0] == ("submitted", "m-0", "", None, None)
    assert rows[1099] == ("submitted", "m-5", "", None, None)
    assert {row[0] for row in rows} == {"submitted"}
    assert Delivery.objects.filter(id__in=ids[:1100], submitted_at__isnull=True).count() == 0
    counts = dict(
        MessageStatusCount.objects.filter(message=message, count__gt=0).values_list(
            "status", "count"
        )
    )
    assert counts == {"submitted": 1100, "queued": 100}


def test_each_written_outcome_gets_its_submit_event_made_from_its_row(message):
    ids = list(Delivery.objects.filter(message=message).values_list("id", flat=True))
    claimed = dispatch.claim(message.pk, ids[:30], "token-1")
    Delivery.objects.filter(pk=ids[5]).update(status=DeliveryStatus.UNKNOWN, claim="sweeper")
    outcomes = [
        dispatch.Outcome(row.id, DeliveryStatus.SUBMITTED, provider_message_id=f"p-{row.id}")
        if n % 3
        else dispatch.Outcome(
            row.id, DeliveryStatus.FAILED, error_code="x" * 50, error_text="Refused: «no»."
        )
        for n, row in enumerate(claimed)
    ]

    dispatch.record(message, "token-1", claimed, outcomes)

    events = {
        e.delivery_id: e
        for e in DeliveryEvent.objects.filter(
            delivery_id__in=ids[:30], source="submit", from_status="sending"
        )
    }
    assert ids[5] not in events  # the swept row's late answer made no submit event
    assert len(events) == 29
    submitted, failed = events[ids[1]], events[ids[3]]
    assert (submitted.from_status, submitted.to_status, submitted.provider_status) == (
        "sending",
        "submitted",
        "",
    )
    assert submitted.raw == {"provider_message_id": f"p-{ids[1]}"}
    assert (failed.to_status, failed.provider_status, failed.description) == (
        "failed",
        "x" * 40,
        "Refused: «no».",
    )
    assert failed.raw == {}
    assert submitted.created_at is not None and failed.created_at == submitted.created_at


def test_a_batch_reads_its_price_table_once_whatever_its_answers(message, monkeypatch):
    reads = []
    real = dispatch.PriceTable.of
    monkeypatch.setattr(
        dispatch.PriceTable, "of", classmethod(lambda cls, a: reads.append(a) or real(a))
    )
    monkeypatch.setattr(
        dispatch,
        "submit",
        lambda backend, outgoing, rows: (
            [
                dispatch.Outcome(r.id, DeliveryStatus.SUBMITTED, provider_message_id=f"p{r.id}")
                for r in rows
            ],
            None,
        ),
    )
    ids = list(Delivery.objects.filter(message=message).order_by("id").values_list("id", flat=True))
    message.refresh_from_db()

    settled = dispatch._send_claimed(message, ids[:1000])

    assert settled == 1000
    assert len(reads) == 1


def test_a_batch_compiles_its_claim_and_lock_once_and_each_claim_reads_the_list_anew(
    message, monkeypatch
):
    """A per-request provider claims a few rows hundreds of times a batch: the ORM writes the
    statements once (compiled.py), and each run still takes its own time, lease and ids, and
    the opt-out list of its own moment (the list is read by the statement, not the compile)."""
    from datetime import UTC, datetime, timedelta

    from smsportal.contacts.models import OptOut

    built = []
    for name in ("update_sql", "select_sql"):
        real = getattr(dispatch, name)
        monkeypatch.setattr(
            dispatch,
            name,
            lambda *a, _real=real, _name=name, **k: built.append(_name) or _real(*a, **k),
        )
    clock = [datetime(2026, 12, 1, 21, 1, tzinfo=UTC)]
    monkeypatch.setattr(dispatch.timezone, "now", lambda: clock[0])
    ids = list(Delivery.objects.filter(message=message).order_by("id").values_list("id", flat=True))

    first = dispatch.claim(message.pk, ids[:4], "compiled-once")
    dispatch.record(
        message, "compiled-once", first, [dispatch.Outcome(r.id, "submitted") for r in first]
    )
    OptOut.objects.create(phone=Delivery.objects.get(pk=ids[5]).phone)
    clock[0] = datetime(2026, 12, 1, 21, 3, tzinfo=UTC)
    second = dispatch.claim(message.pk, ids[4:8], "compiled-once")
    dispatch.record(
        message, "compiled-once", second, [dispatch.Outcome(r.id, "submitted") for r in second]
    )

    assert sorted(built) == ["select_sql", "select_sql", "update_sql"]  # read-back, lock, claim
    assert [r.id for r in first] == ids[:4]
    assert [r.id for r in second] == [ids[4], ids[6], ids[7]]
    rows = {d.id: d for d in Delivery.objects.filter(id__in=ids[:8])}
    assert rows[ids[5]].status == DeliveryStatus.QUEUED and rows[ids[5]].attempts == 0
    assert {rows[i].status for i in (*ids[:5], *ids[6:8])} == {DeliveryStatus.SUBMITTED}
    claimed_at = datetime(2026, 12, 1, 21, 3, tzinfo=UTC)  # the second claim's moment
    assert (rows[ids[4]].sending_at, rows[ids[4]].first_sent_at, rows[ids[4]].attempts) == (
        claimed_at,
        claimed_at,
        1,
    )
    assert rows[ids[0]].sending_at == datetime(2026, 12, 1, 21, 1, tzinfo=UTC)
    assert Delivery.objects.filter(id__in=ids[:8], lease_until__isnull=False).count() == 0
    # The lease each claim gave: the claim's moment plus the lease's length.
    clock[0] = datetime(2026, 12, 1, 21, 4, tzinfo=UTC)
    dispatch.claim(message.pk, ids[8:9], "compiled-once")
    assert Delivery.objects.get(pk=ids[8]).lease_until == datetime(
        2026, 12, 1, 21, 4, tzinfo=UTC
    ) + timedelta(seconds=dispatch.lease_seconds())


def test_a_compiled_statement_refuses_a_marker_it_does_not_hold():
    from smsportal.messaging.compiled import Compiled

    statement = Compiled.of("SELECT %s, %s, %s", ["a", "[-1]", "a"], {"t": "a", "ids": "[-1]"})
    assert statement.with_values(t="b", ids="[1, 2]") == ["b", "[1, 2]", "b"]
    with pytest.raises(ValueError, match="expected values"):
        statement.with_values(t="b")
    with pytest.raises(ValueError, match="no parameter for 'ids'"):
        Compiled.of("SELECT %s", ["[-1]"], {"ids": ["-1"]})  # a list is not its JSON text


def test_a_claim_reads_only_the_rows_of_its_ids_range(message):
    """The claim names the range its ids span: it takes exactly its ids (none between them),
    and PostgreSQL reads the range from the (message, status, id) index instead of walking
    every queued row of the message to join it with the list."""
    ids = list(Delivery.objects.filter(message=message).order_by("id").values_list("id", flat=True))
    captured = []

    def keep(execute, sql, params, many, context):
        captured.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        claimed = dispatch.claim(message.pk, [ids[13], ids[10]], "range-token")

    assert [row.id for row in claimed] == [ids[10], ids[13]]
    states = dict(Delivery.objects.filter(id__in=ids[9:15]).values_list("id", "status"))
    assert [states[i] for i in ids[9:15]] == [
        "queued",
        "sending",
        "queued",
        "queued",
        "sending",
        "queued",
    ]
    update_sql, update_params = next(c for c in captured if c[0].startswith("UPDATE"))
    assert ids[10] in update_params and ids[13] in update_params  # the range's bounds
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + update_sql, update_params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "delivery_message_status_id" in plan and "(id >= " in plan, plan


def test_a_claim_asks_the_opt_out_list_about_its_own_rows(message):
    """Each claimed row's number is looked up in the opt-out list's index (`NOT EXISTS`), not
    the whole list read at every claim; the one opt-out a message may reach (the opt-out's
    own confirmation) is still claimed, every other opted-out number is not."""
    from smsportal.contacts.models import OptOut

    ids = list(Delivery.objects.filter(message=message).order_by("id").values_list("id", flat=True))
    phones = dict(Delivery.objects.filter(id__in=ids[:3]).values_list("id", "phone"))
    OptOut.objects.create(phone=phones[ids[0]], confirmation_message_id=message.pk)
    OptOut.objects.create(phone=phones[ids[1]], confirmation_message_id=message.pk + 1)
    OptOut.objects.create(phone=phones[ids[2]])
    OptOut.objects.bulk_create(OptOut(phone=f"+9712{i:07d}") for i in range(50))
    captured = []

    def keep(execute, sql, params, many, context):
        captured.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        claimed = dispatch.claim(message.pk, ids[:4], "opt-out-token")

    assert [row.id for row in claimed] == [ids[0], ids[3]]
    update_sql, update_params = next(c for c in captured if c[0].startswith("UPDATE"))
    assert "NOT (EXISTS(" in update_sql and 'phone" IN (SELECT' not in update_sql, update_sql
    if connection.vendor == "sqlite":  # PostgreSQL may rightly scan a list this short
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN QUERY PLAN " + update_sql, update_params)
            plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
        assert "SCAN U0" not in plan, plan
