"""Concurrent duplicates of one Idempotency-Key make exactly one message, on SQLite and on
PostgreSQL: the unique constraint decides, not a read first.

The test runs on whichever database DATABASE_URL names; .ci/run runs the whole suite a second
time on a throwaway PostgreSQL, this file included (it carries no marker that run deselects).
By hand: DATABASE_URL=postgres://postgres@127.0.0.1:PORT/smsportal pytest this file."""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from smsportal.api.models import IdempotencyRecord
from smsportal.messaging.models import Delivery, Message

from .conftest import Caller

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8


def test_concurrent_duplicates_make_one_message_and_all_get_its_answer(operator, account, key_for):
    secret = key_for(operator).secret
    body = {"account": account.pk, "to": ["+96597119440"], "text": "Once only"}
    start = threading.Barrier(THREADS)
    answers = []

    def post():
        try:
            call = Caller(secret)
            start.wait()
            answer = call("POST", "/api/v1/messages", body, headers={"Idempotency-Key": "race"})
            replayed = answer.get("Idempotent-Replayed") == "true"
            answers.append((answer.status_code, answer.json(), replayed))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Message.objects.count() == 1
    assert Delivery.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1
    assert len(answers) == THREADS
    assert {status for status, _, _ in answers} == {202}
    assert {data["message"]["id"] for _, data, _ in answers} == {Message.objects.get().pk}
    # one answer made the message; every other one replayed it (none made a second)
    assert sorted(replayed for _, _, replayed in answers) == [False] + [True] * (THREADS - 1)


def test_concurrent_duplicates_with_different_bodies_make_one_message_and_409s(
    operator, account, key_for
):
    secret = key_for(operator).secret
    start = threading.Barrier(THREADS)
    statuses = []

    def post(n: int):
        try:
            call = Caller(secret)
            body = {"account": account.pk, "to": ["+96597119440"], "text": f"Text {n}"}
            start.wait()
            statuses.append(
                call(
                    "POST", "/api/v1/messages", body, headers={"Idempotency-Key": "race"}
                ).status_code
            )
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Message.objects.count() == 1
    assert sorted(statuses) == [202] + [409] * (THREADS - 1)
