"""Bad input gets a clear problem detail and creates nothing."""

from __future__ import annotations

import pytest

from smsportal.messaging.models import Message

pytestmark = pytest.mark.django_db

URL = "/api/v1/messages"


@pytest.fixture
def call(operator, key_for):
    return key_for(operator)


def good(provider_account, **changes):
    return {"account": provider_account.pk, "to": ["+96597119440"], "text": "Hi", **changes}


def problem(answer, status: int, code: str) -> dict:
    assert answer.status_code == status, answer.content
    assert answer["Content-Type"] == "application/problem+json"
    data = answer.json()
    assert data["code"] == code
    assert data["type"].endswith(code)
    assert data["title"] and data["detail"]
    assert Message.objects.count() == 0
    return data


@pytest.mark.parametrize("raw", ['{"account": 1,', "not json", '{"a": NaN}', "\xff"])
def test_malformed_json_is_400(call, account, raw):
    problem(call("POST", URL, body=raw), 400, "malformed_request")


def test_a_body_that_is_not_json_is_415(call, account):
    answer = call("POST", URL, body="account=1", content_type="application/x-www-form-urlencoded")
    problem(answer, 415, "unsupported_media_type")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"account": "1"}, "account"),
        ({"account": 99999}, "account"),
        ({"account": True}, "account"),
        ({"text": 123}, "text"),
        ({"to": "+96597119440"}, "to"),
        ({"to": [96597119440]}, "to[0]"),
        ({"binary_udh": "yes"}, "binary_udh"),
        ({"type": "fax"}, "type"),
        ({"schedule_at": "tomorrow"}, "schedule_at"),
        ({"schedule_at": "2000-01-01T00:00:00Z"}, "schedule_at"),
        ({"lists": ["1"]}, "lists[0]"),
        ({"account": 1.5}, "account"),
        ({"account": 10**30}, "account"),  # past any database integer
        ({"lists": [2**63]}, "lists[0]"),
        ({"account": -1}, "account"),
    ],
)
def test_wrong_types_and_values_name_the_field(call, account, changes, field):
    data = problem(call("POST", URL, good(account, **changes)), 400, "invalid_request")
    assert field in [error["field"] for error in data["errors"]]


def test_unknown_fields_are_refused_not_ignored(call, account):
    data = problem(call("POST", URL, good(account, shedule_at="x")), 400, "invalid_request")
    assert data["errors"] == [
        {"field": "shedule_at", "code": "unknown_field", "detail": "Unknown field."}
    ]


def test_numbers_that_do_not_parse_are_named_by_position(call, account):
    answer = call("POST", URL, good(account, to=["+96597119440", "12", "hello"]))
    data = problem(answer, 400, "invalid_request")
    fields = {error["field"]: error["code"] for error in data["errors"]}
    assert fields == {"to[1]": "invalid_number", "to[2]": "invalid_number"}


def test_no_recipient_at_all_is_a_field_error(call, account):
    answer = call("POST", URL, {"account": account.pk, "text": "Hi"})
    assert problem(answer, 400, "invalid_request")["errors"][0]["field"] == "to"


def test_a_number_too_large_for_json_floats_is_400(call, account):
    raw = '{"account": 1e999, "to": ["+96597119440"], "text": "Hi"}'
    data = problem(call("POST", URL, body=raw), 400, "invalid_request")
    assert data["errors"][0]["field"] == "account"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/messages?account=99999999999999999999999",
        "/api/v1/messages?page_size=abc",
        "/api/v1/messages?page_size=0",
        "/api/v1/contacts?list=1e3",
    ],
)
def test_filter_numbers_that_do_not_parse_or_fit_are_400(call, path):
    problem(call("GET", path), 400, "invalid_request")


def test_a_10_mb_body_is_413(call, account):
    raw = '{"text": "' + "a" * (10 * 1024 * 1024) + '"}'
    problem(call("POST", URL, body=raw), 413, "body_too_large")


def test_a_large_body_without_a_length_is_stopped_while_read(settings, account):
    from smsportal.api.parsers import LimitedJSONParser

    settings.API_MAX_BODY_BYTES = 100
    import io

    from rest_framework.exceptions import APIException

    with pytest.raises(APIException) as raised:
        LimitedJSONParser().parse(io.BytesIO(b'{"a": "' + b"x" * 200 + b'"}'))
    assert raised.value.status_code == 413


def test_a_filter_that_does_not_parse_is_400(call):
    data = problem(call("GET", URL + "?status=delivred"), 400, "invalid_request")
    assert data["errors"][0]["field"] == "status"
    problem(call("GET", URL + "?created_after=yesterday"), 400, "invalid_request")
    problem(call("GET", URL + "?account=abc"), 400, "invalid_request")


def test_an_unknown_endpoint_is_a_404_problem(call):
    problem(call("GET", "/api/v1/nothing-here"), 404, "not_found")
    problem(call("GET", "/api/v1/messages/999999"), 404, "not_found")


def test_a_wrong_method_is_405(call):
    problem(call("DELETE", URL), 405, "method_not_allowed")


def test_an_idempotency_key_that_is_too_long_is_400(call, account):
    answer = call("POST", URL, good(account), headers={"Idempotency-Key": "k" * 300})
    problem(answer, 400, "invalid_idempotency_key")
