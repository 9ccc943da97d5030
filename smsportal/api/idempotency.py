"""`Idempotency-Key`: a repeat of a send (same key, same body, within 24 hours) gets the first
answer again and creates nothing; the same key with another body is a conflict (409).

Concurrent duplicates are settled by the unique (user, key) constraint, not by a read first:
the record is inserted in the transaction that creates the message. On PostgreSQL a concurrent
insert of the same key waits for that transaction and then fails; on SQLite transactions take
the write lock at BEGIN (IMMEDIATE), so the second one starts after the first committed and its
insert fails at once. The loser reads the committed record and replays it. A refused send rolls
its record back with everything else, so retrying it is evaluated afresh.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import status

from .models import IdempotencyRecord
from .problems import Problem

MAX_KEY_LENGTH = 255


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


def replay(user, key: str, digest: str) -> IdempotencyRecord:
    record = IdempotencyRecord.objects.get(user=user, key=key)
    if record.request_hash != digest:
        raise Problem(
            status.HTTP_409_CONFLICT,
            "idempotency_key_reused",
            "Idempotency-Key already used",
            "This Idempotency-Key was used within the last 24 hours for a different request; "
            "use a new key for a new message.",
        )
    return record


def run_once(user, key: str, data, work: Callable[[], tuple[int, dict, int | None]]):
    """(status, body, replayed): `work` runs at most once per (user, key, body) in 24 hours.
    `work` returns (status, body, message id) and raises to create nothing."""
    check_key(key)
    digest = request_hash(data)
    try:
        with transaction.atomic():
            IdempotencyRecord.objects.filter(
                user=user, key=key, created_at__lt=timezone.now() - IdempotencyRecord.WINDOW
            ).delete()
            with transaction.atomic():  # a savepoint: only the insert's failure is caught
                record = IdempotencyRecord.objects.create(user=user, key=key, request_hash=digest)
            status_code, body, message_id = work()
            record.status_code, record.response, record.message_id = status_code, body, message_id
            record.save(update_fields=["status_code", "response", "message"])
            return status_code, body, False
    except IntegrityError:
        if not IdempotencyRecord.objects.filter(user=user, key=key).exists():
            raise  # not our constraint: a real fault
        record = replay(user, key, digest)
        return record.status_code, record.response, True
