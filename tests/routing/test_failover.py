"""Failover in dispatch: a routed delivery whose attempt certainly left nothing at the provider
moves to the route's next account and is sent there, as a second attempt in its history; an
attempt that may have left never moves. Every backend error class is enumerated (the same
classification as the circuit breaker's), and a new class fails this test until decided."""

from __future__ import annotations

from decimal import Decimal

import pytest

from smsportal.contacts.models import OptOut
from smsportal.messaging import routed
from smsportal.messaging.models import Delivery, DeliveryEvent, Message
from smsportal.messaging.sending import ResolvedRecipients
from smsportal.providers.backends import base
from smsportal.quotas.models import Quota
from smsportal.routing.models import Route, RouteAccount
from smsportal.sms.status import DeliveryStatus
from tests.conftest import general_department
from tests.factories import ProviderAccountFactory
from tests.fakes import FakeBackend
from tests.routing.test_breaker import EXPECTED, every_error_class

pytestmark = pytest.mark.django_db

PHONES = ["+96550000001", "+96550000002", "+96550000003"]


@pytest.fixture
def provider(monkeypatch, script):
    """The scripted provider, told which accounts are down and with what error."""
    # account id, or (account id, number) -> the error it raises (or a function making it)
    down: dict = {}

    class PerAccount(FakeBackend):
        def send(self, message, recipients):
            with script.lock:
                script.calls.append([(self.account.name, r.phone) for r in recipients])
            keys = [self.account.pk, *((self.account.pk, r.phone) for r in recipients)]
            if key := next((k for k in keys if k in down), None):
                error = down[key]
                raise error if isinstance(error, BaseException) else error()
            return base.SendResult(
                [
                    base.SubmitResult(
                        r, base.SubmitStatus.SUBMITTED, provider_message_id=f"M{r.reference}"
                    )
                    for r in recipients
                ]
            )

    backend = type("PerAccountBackend", (PerAccount,), {"script": script})
    monkeypatch.setattr("smsportal.providers.models.backend_class", lambda kind: backend)
    script.down = down
    return script


@pytest.fixture
def accounts(provider):
    a = ProviderAccountFactory(name="Alpha", kind="kwtsms", price_per_segment=Decimal("0.02"))
    b = ProviderAccountFactory(name="Bravo", kind="kwtsms", price_per_segment=Decimal("0.03"))
    c = ProviderAccountFactory(name="Charlie", kind="kwtsms", price_per_segment=Decimal("0.04"))
    route = Route.objects.create(name="Kuwait", destinations="KW", position=1)
    for n, account in enumerate([a, b, c]):
        RouteAccount.objects.create(route=route, account=account, position=n)
    return a, b, c


def send_routed(django_capture_on_commit_callbacks, phones=PHONES) -> list[Message]:
    with django_capture_on_commit_callbacks(execute=True):
        draft = routed.prepare_routed(
            body="Hello",
            recipients=ResolvedRecipients(phones=list(phones)),
            department=general_department(),
        )
        return routed.send_routed(draft)


def sent_through(provider) -> list[tuple[str, str]]:
    return [pair for call in provider.calls for pair in call]


def errors():
    """Every backend error class, TransientError both before and after the request left."""
    for cls in sorted(every_error_class(), key=lambda c: c.__name__):
        if cls is base.TransientError:
            yield pytest.param(cls("connection refused", request_sent=False), True, id="refused")
            yield pytest.param(cls("read timed out", request_sent=True), False, id="timeout")
        else:
            yield pytest.param(cls("x", code="E1"), EXPECTED[cls.__name__], id=cls.__name__)


def test_every_error_class_is_enumerated_here():
    assert {cls.__name__ for cls in every_error_class()} == set(EXPECTED)


@pytest.mark.parametrize(("error", "fails_over"), list(errors()))
def test_only_a_not_sent_failure_fails_over(
    error, fails_over, accounts, provider, django_capture_on_commit_callbacks
):
    alpha, bravo, _ = accounts
    provider.down[alpha.pk] = error
    [message] = send_routed(django_capture_on_commit_callbacks)
    assert message.account == alpha and message.route.name == "Kuwait"

    rows = list(Delivery.objects.filter(message=message).order_by("id"))
    through = sent_through(provider)
    if fails_over:
        assert {(r.status, r.account_id, r.attempts) for r in rows} == {
            (DeliveryStatus.SUBMITTED, bravo.pk, 2)
        }
        # Alpha was asked (a refusal before leaving is retried there first), Bravo once each.
        assert {p for name, p in through if name == "Alpha"} == set(PHONES)
        assert sorted(p for name, p in through if name == "Bravo") == PHONES
        history = list(rows[0].events.order_by("id").values_list("from_status", "to_status"))
        assert history == [("sending", "failed"), ("failed", "queued"), ("sending", "submitted")]
        moved = rows[0].events.get(to_status="queued").description
        assert "Not sent through Alpha" in moved and "moved to Bravo" in moved
        assert rows[0].cost == Decimal("0.03")  # at Bravo's price
    else:
        # The fate may be unknown, or the refusal is about the number or text: never moved.
        assert {r.account_id for r in rows} == {alpha.pk}
        assert {r.status for r in rows} <= {DeliveryStatus.FAILED, DeliveryStatus.UNKNOWN}
        assert all(name == "Alpha" for name, _ in through)
        assert not DeliveryEvent.objects.filter(to_status="queued").exists()
    message.refresh_from_db()
    assert message.status == Message.Status.DONE
    # Never sent twice through an account that took it (Bravo), nor moved after Alpha may
    # have taken it.
    taken = [pair for pair in through if pair[0] != "Alpha"]
    assert len(taken) == len(set(taken))


def test_a_delivery_moves_along_the_route_and_never_back(
    accounts, provider, django_capture_on_commit_callbacks
):
    alpha, bravo, charlie = accounts
    provider.down[alpha.pk] = base.TransientError("connection refused", request_sent=False)
    provider.down[bravo.pk] = base.AuthenticationError("login refused", code="1101")
    [message] = send_routed(django_capture_on_commit_callbacks, PHONES[:1])
    delivery = Delivery.objects.get(message=message)
    assert (delivery.status, delivery.account_id, delivery.attempts) == ("submitted", charlie.pk, 3)
    names = [name for name, _ in sent_through(provider)]
    assert list(dict.fromkeys(names)) == ["Alpha", "Bravo", "Charlie"]
    assert names.count("Bravo") == names.count("Charlie") == 1


def test_when_every_account_is_down_the_delivery_stays_failed_with_the_reason(
    accounts, provider, django_capture_on_commit_callbacks
):
    for account in accounts:
        provider.down[account.pk] = base.TransientError("connection refused", request_sent=False)
    [message] = send_routed(django_capture_on_commit_callbacks, PHONES[:1])
    delivery = Delivery.objects.get(message=message)
    assert (delivery.status, delivery.account_id) == ("failed", accounts[2].pk)
    assert {name for name, _ in sent_through(provider)} == {"Alpha", "Bravo", "Charlie"}
    last = delivery.events.order_by("id").last().description
    assert "not moved to another account" in last and "no other account" in last
    message.refresh_from_db()
    assert message.status == Message.Status.DONE


def test_a_number_that_opted_out_meanwhile_is_never_sent_by_failover(
    accounts, provider, monkeypatch, django_capture_on_commit_callbacks
):
    from smsportal.messaging import failover

    alpha, _, _ = accounts
    provider.down[alpha.pk] = base.TransientError("connection refused", request_sent=False)
    move = failover.move_not_sent

    def opt_out_then_move(message, results):
        OptOut.objects.get_or_create(phone=PHONES[0])  # replied STOP while Alpha was refusing
        return move(message, results)

    monkeypatch.setattr(failover, "move_not_sent", opt_out_then_move)
    [message] = send_routed(django_capture_on_commit_callbacks, PHONES[:2])
    rows = dict(Delivery.objects.filter(message=message).values_list("phone", "status"))
    assert rows == {PHONES[0]: "skipped", PHONES[1]: "submitted"}
    assert ("Bravo", PHONES[0]) not in sent_through(provider)
    message.refresh_from_db()
    assert message.status == Message.Status.DONE


def test_the_next_accounts_quota_is_respected(
    accounts, provider, django_capture_on_commit_callbacks
):
    alpha, bravo, charlie = accounts
    Quota.objects.create(department=general_department(), account=bravo, parts_per_day=1)
    provider.down[alpha.pk] = base.InsufficientCredit("no credit", code="1105")
    [message] = send_routed(django_capture_on_commit_callbacks, PHONES[:2])
    rows = set(Delivery.objects.filter(message=message).values_list("status", "account_id"))
    # Bravo's quota has room for 1 part, not 2: both go on to Charlie.
    assert rows == {("submitted", charlie.pk)}
    assert not any(name == "Bravo" for name, _ in sent_through(provider))


def test_a_delivery_failing_on_two_accounts_is_given_back_once_per_quota(
    accounts, provider, django_capture_on_commit_callbacks
):
    """Each account's quota gives back only what was to go through it; the quota over all
    accounts, which holds a moved delivery once per account it was moved to, gives it back
    once per failure. (Before, the second failure gave back the first account's parts of the
    deliveries still there, and the all-accounts quota twice.)"""
    alpha, bravo, charlie = accounts
    department = general_department()
    quotas = {
        name: Quota.objects.create(department=department, account=account, parts_per_day=10)
        for name, account in (("alpha", alpha), ("bravo", bravo), ("all", None))
    }
    provider.bulk_size = 1  # one request per number: the first number fails alone on Alpha
    refused = base.TransientError("connection refused", request_sent=False)
    provider.down[(alpha.pk, PHONES[0])] = refused
    provider.down[bravo.pk] = provider.down[charlie.pk] = refused
    [message] = send_routed(django_capture_on_commit_callbacks, PHONES[:2])
    rows = dict(Delivery.objects.filter(message=message).values_list("phone", "status"))
    assert rows == {PHONES[0]: "failed", PHONES[1]: "submitted"}
    used = {name: sum(q.usage.values_list("parts", flat=True)) for name, q in quotas.items()}
    # The second number's part, submitted through Alpha, stays counted on Alpha and over all
    # accounts; nothing on Bravo.
    assert used == {"alpha": 1, "bravo": 0, "all": 1}


def test_a_message_not_sent_by_a_route_never_fails_over(
    accounts, provider, django_capture_on_commit_callbacks
):
    from tests.support.sending import create_message

    alpha, _, _ = accounts
    provider.down[alpha.pk] = base.TransientError("connection refused", request_sent=False)
    with django_capture_on_commit_callbacks(execute=True):
        message = create_message(
            account=alpha, body="Hello", recipients=ResolvedRecipients(phones=PHONES[:1])
        )
    assert Delivery.objects.get(message=message).status == "failed"
    assert {name for name, _ in sent_through(provider)} == {"Alpha"}


def test_the_admin_history_shows_both_attempts(
    accounts, provider, admin_client, django_capture_on_commit_callbacks
):
    alpha, _, _ = accounts
    provider.down[alpha.pk] = base.TransientError("connection refused", request_sent=False)
    [message] = send_routed(django_capture_on_commit_callbacks, PHONES[:1])
    delivery = Delivery.objects.get(message=message)
    page = admin_client.get(f"/admin/messaging/delivery/{delivery.pk}/change/").content.decode()
    assert "Not sent through Alpha" in page and "moved to Bravo" in page
    assert "submitted" in page


@pytest.mark.parametrize("who", ["operator_client", "manager_client", "admin_client"])
def test_the_message_page_shows_the_route_and_the_account_a_delivery_went_through(
    who, request, accounts, provider, django_capture_on_commit_callbacks
):
    alpha, _, _ = accounts
    provider.down[alpha.pk] = base.TransientError("connection refused", request_sent=False)
    [message] = send_routed(django_capture_on_commit_callbacks, PHONES[:1])
    client = request.getfixturevalue(who)
    page = client.get(message.get_absolute_url()).content.decode()
    assert 'id="message-route"' in page and "Kuwait" in page
    assert "through <bdi>Bravo</bdi>, the route's next account" in page
