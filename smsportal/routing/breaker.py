"""Which failed attempts certainly left nothing at the provider, and the circuit breaker they
feed: after `ROUTING_BREAKER_FAILURES` consecutive such attempts an account is taken out of
routes for `ROUTING_BREAKER_SECONDS`; then it is tried again, and one more failure takes it
out again at once, while any answer from the provider puts its count back to zero."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import F, Q
from django.utils import timezone

from smsportal.providers.backends.base import (
    AuthenticationError,
    FloodRefused,
    InsufficientCredit,
    ProviderError,
    TransientError,
    UnsupportedOperation,
)

from .models import AccountRouting

# Refusals of a whole request by which the provider took nothing: the account, not the message
# or the number, is the problem (wrong login or disabled account, no credit, an operation it
# does not offer), and the portal's own flood refusal, made before anything left.
NOT_TAKEN = (AuthenticationError, InsufficientCredit, FloodRefused, UnsupportedOperation)


def not_taken(error: BaseException) -> bool:
    """True only when the request certainly did not reach the provider, or was refused whole
    without being taken. An error after which it may have left (a timeout after sending, a
    garbled answer) is never "not taken": its fate is unknown, and it is never sent again."""
    if isinstance(error, TransientError):
        return not error.request_sent
    if isinstance(error, ProviderError):
        return isinstance(error, NOT_TAKEN)
    return False


def failures_allowed() -> int:
    return max(1, int(getattr(settings, "ROUTING_BREAKER_FAILURES", 5)))


def pause() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "ROUTING_BREAKER_SECONDS", 300)))


def _put_back(account_id: int) -> None:
    """An answer: the account's count back to zero and back in routes. One statement, written
    once (a sender one request per recipient answers here after every few requests): an
    account without its row has nothing to put back."""
    table = connection.ops.quote_name(AccountRouting._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET not_sent_failures = 0, out_until = NULL "  # noqa: S608
            "WHERE account_id = %s AND not_sent_failures > 0",
            [account_id],
        )


def note(account_id: int, *, not_sent: int, answered: int) -> bool:
    """Record a batch's attempts at `account_id`: `not_sent` requests that left nothing,
    `answered` ones the provider answered. Returns True when this takes the account out."""
    if not not_sent and not answered:
        return False
    if answered and not not_sent:
        _put_back(account_id)
        return False
    rows = AccountRouting.objects.filter(account_id=account_id)
    AccountRouting.objects.get_or_create(account_id=account_id)
    rows.update(not_sent_failures=F("not_sent_failures") + not_sent)
    now = timezone.now()
    # Conditional: of several batches failing together, one takes the account out.
    return bool(
        rows.filter(not_sent_failures__gte=failures_allowed())
        .filter(Q(out_until__isnull=True) | Q(out_until__lt=now))
        .update(out_until=now + pause())
    )
