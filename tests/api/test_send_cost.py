"""What one POST /messages costs the database, and that what made it cheaper kept every rule:
the send's statements are counted (issue 20's rate needs few), a replay reads one row and runs
no check, a role taken away applies to the very next request, the answer is the stored one."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from smsportal.api.models import IdempotencyRecord
from smsportal.messaging.models import Message
from tests.factories import OptOutFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/messages"
BODY = {"to": ["+96597119440"], "text": "Your code is 1234"}
# key (with user and department), permissions, idempotency key, account (twice), department
# membership, opt-outs, prices, quotas (check); message, quotas (take), delivery, audit entry,
# API origin, idempotency record, day counters; the dispatch task. Transaction control
# statements (BEGIN, COMMIT, savepoints) are not counted here.
SEND_STATEMENTS = 17


def statements(call, method, path, body, **headers):
    with CaptureQueriesContext(connection) as captured:
        answer = call(method, path, body, headers=headers)
    queries = [
        q["sql"]
        for q in captured.captured_queries
        if not q["sql"].upper().startswith(("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE"))
    ]
    return answer, queries


def test_a_send_to_one_number_takes_few_statements(manager, account, key_for):
    call = key_for(manager)
    call("POST", URL, {"account": account.pk, **BODY}, headers={"Idempotency-Key": "warm"})
    answer, queries = statements(
        call, "POST", URL, {"account": account.pk, **BODY}, **{"Idempotency-Key": "k-2"}
    )
    assert answer.status_code == 202, answer.content
    assert len(queries) <= SEND_STATEMENTS, "\n".join(queries)


def test_the_preview_reads_the_key_the_permissions_and_the_account_only(manager, account, key_for):
    call = key_for(manager)
    body = {"account": account.pk, "text": "Hi"}
    call("POST", "/api/v1/preview", body)  # the key's first use is recorded (once a minute)
    answer, queries = statements(call, "POST", "/api/v1/preview", body)
    assert answer.status_code == 200, answer.content
    assert len(queries) == 3, "\n".join(queries)


def test_a_replay_answers_the_stored_answer_without_running_the_checks_again(
    operator, account, key_for
):
    call = key_for(operator)
    first = call("POST", URL, {"account": account.pk, **BODY}, headers={"Idempotency-Key": "k"})
    assert first.status_code == 202
    # the number opted out since: a new send would be refused, the repeat is not a new send
    OptOutFactory(phone="+96597119440")
    again, queries = statements(
        call, "POST", URL, {"account": account.pk, **BODY}, **{"Idempotency-Key": "k"}
    )
    assert again.status_code == 202
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json() == IdempotencyRecord.objects.get().response
    assert Message.objects.count() == 1
    assert not any("contacts_optout" in sql for sql in queries)


def test_the_answer_is_the_message_as_the_portal_reads_it(operator, account, key_for):
    call = key_for(operator, name="Billing")
    answer = call("POST", URL, {"account": account.pk, **BODY}).json()["message"]
    read = call("GET", f"{URL}/{answer['id']}").json()
    assert answer == read


def test_a_role_taken_away_applies_to_the_next_request(operator, account, key_for):
    call = key_for(operator)
    assert call("POST", URL, {"account": account.pk, **BODY}).status_code == 202
    operator.groups.remove(Group.objects.get(name="Operator"))
    refused = call("POST", URL, {"account": account.pk, **BODY})
    assert refused.status_code == 403
    assert refused.json()["code"] == "role_forbids"
    assert Message.objects.count() == 1


def test_an_unknown_or_inactive_account_is_a_field_error_and_creates_nothing(
    operator, account, key_for
):
    call = key_for(operator)
    for account_id in (account.pk + 1000,):
        answer = call("POST", URL, {"account": account_id, **BODY})
        assert answer.status_code == 400
        assert [e["field"] for e in answer.json()["errors"]] == ["account"]
    account.is_active = False
    account.save()
    answer = call("POST", URL, {"account": account.pk, **BODY})
    assert answer.status_code == 400
    assert [e["field"] for e in answer.json()["errors"]] == ["account"]
    assert Message.objects.count() == 0
