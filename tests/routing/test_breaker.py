"""The circuit breaker and what feeds it: only attempts that certainly left nothing at the
provider count (every backend error class is classified here: a new class fails this test until
someone decides), any answer resets the count, and an account taken out is left out of routes
until its pause is over."""

from __future__ import annotations

import importlib
import pkgutil
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

import smsportal.providers.backends as backends_package
from smsportal.messaging import dispatch
from smsportal.messaging.sending import ResolvedRecipients
from smsportal.providers.backends import base
from smsportal.routing import breaker
from smsportal.routing.models import AccountRouting, Route, RouteAccount
from smsportal.routing.service import router_for
from smsportal.sms.status import DeliveryStatus
from tests.factories import ProviderAccountFactory
from tests.support.sending import create_message

# Every ProviderError class and whether a failure by it certainly left nothing at the provider.
EXPECTED = {
    "ProviderError": False,  # unspecified: may have been taken
    "AuthenticationError": True,  # login refused or account disabled: nothing taken
    "InsufficientCredit": True,  # no credit: refused whole
    "InvalidRecipient": False,  # the number, not the account: another would refuse it too
    "InvalidContent": False,  # the text or sender: another account would be asked the same
    "DuplicateRequest": False,  # the provider already has it: it was taken
    "TransferRefused": False,  # not a send
    "FloodRefused": True,  # refused by the portal before anything left
    "UnsupportedOperation": True,  # the provider offers no such thing: nothing sent
    "ProtocolError": False,  # a garbled answer: the request may have been taken
    "TransientError": None,  # decided by request_sent (below)
    "RemoteListStale": False,  # contacts: a list that may hold opted-out numbers, not the account
    "RemoteNameTaken": False,  # contacts: a copy refused over another list's, not a send
}


def every_error_class() -> set[type]:
    for module in pkgutil.iter_modules(backends_package.__path__):
        importlib.import_module(f"{backends_package.__name__}.{module.name}")
    found, todo = set(), [base.ProviderError]
    while todo:
        cls = todo.pop()
        found.add(cls)
        todo.extend(cls.__subclasses__())
    return {cls for cls in found if not cls.__module__.startswith("tests.")}


def test_every_backend_error_class_is_classified():
    classes = every_error_class()
    assert {cls.__name__ for cls in classes} == set(EXPECTED)
    for cls in classes:
        if cls is base.TransientError:
            assert breaker.not_taken(cls("refused", request_sent=False))
            assert not breaker.not_taken(cls("timed out", request_sent=True))
        else:
            assert breaker.not_taken(cls("x")) is EXPECTED[cls.__name__], cls
    assert not breaker.not_taken(RuntimeError("crash"))


@pytest.fixture
def fast(monkeypatch, settings):
    monkeypatch.setattr(dispatch, "RETRY_BACKOFF", 0)
    settings.ROUTING_BREAKER_FAILURES = 2
    settings.ROUTING_BREAKER_SECONDS = 600


def send(account, django_capture_on_commit_callbacks, phone="+96550000001"):
    with django_capture_on_commit_callbacks(execute=True):
        return create_message(
            account=account, body="Hello", recipients=ResolvedRecipients(phones=[phone])
        )


@pytest.mark.django_db
def test_consecutive_not_sent_failures_take_the_account_out_of_routes(
    account, script, fast, django_capture_on_commit_callbacks
):
    other = ProviderAccountFactory(name="Spare", price_per_segment=Decimal("0.01"))
    route = Route.objects.create(name="All", position=1)
    RouteAccount.objects.create(route=route, account=account, position=0)
    RouteAccount.objects.create(route=route, account=other, position=1)

    def refused(call, recipients):
        raise base.TransientError("connection refused", request_sent=False)

    script.behaviour = refused
    send(account, django_capture_on_commit_callbacks)
    assert router_for(body="Hi").choose("+96550000001").account == account.pk
    message = send(account, django_capture_on_commit_callbacks)

    assert message.deliveries.get().status == DeliveryStatus.FAILED
    state = AccountRouting.objects.get(account=account)
    assert state.not_sent_failures == 2 and state.out_until > timezone.now()
    choice = router_for(body="Hi").choose("+96550000001")
    assert choice.account == other.pk
    assert "taken out of routes after 2 failed attempts" in choice.reason

    # After the pause it is tried again; an answer puts it back for good.
    AccountRouting.objects.filter(account=account).update(
        out_until=timezone.now() - timedelta(seconds=1)
    )
    assert router_for(body="Hi").choose("+96550000001").account == account.pk
    script.behaviour = None
    send(account, django_capture_on_commit_callbacks)
    state.refresh_from_db()
    assert (state.not_sent_failures, state.out_until) == (0, None)


@pytest.mark.django_db
def test_an_attempt_of_unknown_fate_never_counts(
    account, script, fast, django_capture_on_commit_callbacks
):
    def timeout(call, recipients):
        raise base.TransientError("read timed out", request_sent=True)

    script.behaviour = timeout
    for _ in range(3):
        message = send(account, django_capture_on_commit_callbacks)
        assert message.deliveries.get().status == DeliveryStatus.UNKNOWN
    state = AccountRouting.objects.filter(account=account).first()
    assert state is None or (state.not_sent_failures, state.out_until) == (0, None)


@pytest.mark.django_db
def test_a_refused_login_counts_but_a_refused_number_does_not(
    account, script, fast, django_capture_on_commit_callbacks
):
    def bad_number(call, recipients):
        raise base.InvalidRecipient("bad number", code="1706")

    script.behaviour = bad_number
    send(account, django_capture_on_commit_callbacks)
    state = AccountRouting.objects.filter(account=account).first()
    assert state is None or state.not_sent_failures == 0  # no row: nothing ever counted

    def bad_login(call, recipients):
        raise base.AuthenticationError("login refused", code="1101")

    script.behaviour = bad_login
    send(account, django_capture_on_commit_callbacks)
    assert AccountRouting.objects.get(account=account).not_sent_failures == 1


@pytest.mark.django_db
def test_the_dashboard_shows_an_account_out_of_routes(operator_client):
    account = ProviderAccountFactory(name="Flaky SMS")
    AccountRouting.objects.create(
        account=account, not_sent_failures=5, out_until=timezone.now() + timedelta(minutes=5)
    )
    page = operator_client.get("/").content.decode()
    assert "Accounts taken out of routes" in page
    assert "taken out of routes after 5 failed attempts" in page
