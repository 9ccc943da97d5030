"""`Idempotency-Key`: a repeat of a send (same key, same body, within 24 hours) gets the first
answer again and creates nothing; the same key with another body is a conflict (409).

A repeat that arrives after the first answer is found by one read and replayed. Concurrent
duplicates are settled by the unique (user, key) constraint: the record is inserted in the
transaction that creates the message (`sending.send`'s `also`), with the answer it replays. On
PostgreSQL a concurrent insert of the same key waits for the first transaction and then fails;
on SQLite transactions take the write lock at BEGIN (IMMEDIATE), so the second one starts after
the first committed and its insert fails at once. The loser's transaction is rolled back whole
(its message with it) and it replays the winner's record. A refused send is not remembered, so
retrying it is evaluated afresh.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from django.db import IntegrityError
from django.utils import timezone
from rest_framework import exceptions, status

from .models import IdempotencyRecord
from .problems import Problem

MAX_KEY_LENGTH = 255

# remember(status, body, message id): store the answer, inside the send's transaction.
Remember = Callable[[int, dict, int | None], None]


def request_hash(data) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_key(key: str) -> None:
    if len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise Problem(
            status.HTTP_400_BAD_REQUEST,
            "invalid_idempotency_key",
            "Invalid Idempotency-Key",
            f"An Idempotency-Key is at most {MAX_KEY_LENGTH} printable characters.",
        )


def replay(record: IdempotencyRecord, digest: str) -> IdempotencyRecord:
    if record.request_hash != digest:
        raise Problem(
            status.HTTP_409_CONFLICT,
            "idempotency_key_reused",
            "Idempotency-Key already used",
            "This Idempotency-Key was used within the last 24 hours for a different request; "
            "use a new key for a new message.",
        )
    return record


def earlier(user, key: str) -> IdempotencyRecord | None:
    """The record of this key within the window, if any. One older than the window is deleted
    (only if it is still that one), so the key starts afresh."""
    record = IdempotencyRecord.objects.filter(user=user, key=key).first()
    if record is not None and record.created_at < timezone.now() - IdempotencyRecord.WINDOW:
        IdempotencyRecord.objects.filter(pk=record.pk, created_at=record.created_at).delete()
        return None
    return record


def run_once(user, key: str, data, work: Callable[[Remember], tuple[int, dict]]):
    """(status, body, replayed): `work` runs at most once per (user, key, body) in 24 hours.
    `work(remember)` must call `remember(status, body, message id)` inside the transaction that
    creates the message; it raises to create nothing."""
    check_key(key)
    digest = request_hash(data)
    found = earlier(user, key)
    if found is not None:
        record = replay(found, digest)
        return record.status_code, record.response, True

    def remember(status_code: int, body: dict, message_id: int | None) -> None:
        IdempotencyRecord.objects.create(
            user=user,
            key=key,
            request_hash=digest,
            status_code=status_code,
            response=body,
            message_id=message_id,
        )

    try:
        status_code, body = work(remember)
    except IntegrityError:
        found = IdempotencyRecord.objects.filter(user=user, key=key).first()
        if found is None:
            raise  # not our constraint: a real fault
        record = replay(found, digest)  # a concurrent duplicate committed first
        return record.status_code, record.response, True
    except exceptions.APIException:
        # Refused: unless a concurrent duplicate committed meanwhile (its send may be what left
        # no room for this one), whose answer is this request's too.
        found = IdempotencyRecord.objects.filter(user=user, key=key).first()
        if found is None:
            raise
        record = replay(found, digest)
        return record.status_code, record.response, True
    return status_code, body, False
