"""API keys: the secret is kept hashed, and a revoked, expired, foreign-address or malformed
key is refused with a problem detail, nothing created."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from smsportal.api.models import ApiKey
from smsportal.messaging.models import Message

from .conftest import Caller

pytestmark = pytest.mark.django_db

URL = "/api/v1/messages"


def send(call, account):
    return call("POST", URL, {"account": account.pk, "to": ["+96597119440"], "text": "Hi"})


def test_only_the_hash_of_the_secret_is_stored(operator):
    key, secret = ApiKey.issue(operator, "Billing", ["send"])
    stored = ApiKey.objects.filter(pk=key.pk).values()[0]
    assert secret not in str(stored)
    assert key.matches(secret)
    assert not key.matches(secret + "x")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"revoked_at": timezone.now()}, "key_revoked"),
        ({"expires_at": timezone.now() - timedelta(minutes=1)}, "key_expired"),
        ({"allowed_addresses": "10.0.0.0/8"}, "address_not_allowed"),
    ],
)
def test_a_key_that_may_not_be_used_is_refused(operator, account, key_for, change, code):
    call = key_for(operator)
    ApiKey.objects.filter(pk=call.key.pk).update(**change)
    answer = send(call, account)
    assert answer.status_code == (403 if code == "address_not_allowed" else 401)
    assert answer["Content-Type"] == "application/problem+json"
    assert answer.json()["code"] == code
    assert Message.objects.count() == 0


def test_a_key_of_an_allowed_address_behind_a_trusted_proxy_is_accepted(
    settings, operator, account, key_for
):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    call = key_for(operator, allowed_addresses="203.0.113.0/24")
    answer = call(
        "POST",
        URL,
        {"account": account.pk, "to": ["+96597119440"], "text": "Hi"},
        headers={"X-Forwarded-For": "203.0.113.7"},
    )
    assert answer.status_code == 202
    call.key.refresh_from_db()
    assert call.key.last_used_from == "203.0.113.7"
    assert call.key.last_used_at is not None


def test_a_forwarded_address_from_an_untrusted_peer_is_not_believed(
    settings, operator, account, key_for
):
    settings.TRUSTED_PROXIES = []
    call = key_for(operator, allowed_addresses="203.0.113.0/24")
    answer = call(
        "POST",
        URL,
        {"account": account.pk, "to": ["+96597119440"], "text": "Hi"},
        headers={"X-Forwarded-For": "203.0.113.7"},
    )
    assert answer.json()["code"] == "address_not_allowed"


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer nonsense", "Basic dXNlcjpwYXNz", "Bearer smsp_abc_wrong", "Token x"],
)
def test_a_malformed_or_unknown_key_is_401(account, db, header):
    answer = Caller()("POST", URL, {"account": account.pk}, headers={"Authorization": header})
    assert answer.status_code == 401
    assert answer.json()["code"] == "invalid_key"
    assert answer["WWW-Authenticate"].startswith("Bearer")


def test_no_key_is_401_not_a_login_page(account, db):
    answer = Caller()("GET", URL)
    assert answer.status_code == 401
    assert answer.json()["code"] == "key_missing"


def test_a_deactivated_users_key_is_refused(operator, account, key_for):
    call = key_for(operator)
    operator.is_active = False
    operator.save()
    assert send(call, account).json()["code"] == "user_inactive"


def test_every_request_is_logged_without_the_secret(operator, account, key_for, caplog):
    call = key_for(operator)
    with caplog.at_level(logging.INFO, logger="smsportal.api"):
        send(call, account)
        Caller()("GET", URL, headers={"Authorization": call.secret + "x"})
    lines = [r.getMessage() for r in caplog.records if r.name == "smsportal.api"]
    assert any(f"key={call.key.prefix}" in line and ": 202" in line for line in lines)
    assert any(": 401 invalid_key" in line for line in lines)
    assert not any(call.secret.split("_", 2)[2] in line for line in lines)


def test_last_use_is_recorded(operator, account, key_for):
    call = key_for(operator)
    call("GET", URL)
    call.key.refresh_from_db()
    assert call.key.last_used_from == "127.0.0.1"
