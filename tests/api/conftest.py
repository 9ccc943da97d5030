"""API test helpers: a key for each of the cast, and `call` to make a request with it."""

from __future__ import annotations

import json as jsonlib

import pytest
from django.test import Client

from smsportal.api.models import ApiKey, Scope
from smsportal.departments.models import Department
from tests.factories import UserFactory

ALL_SCOPES = [scope.value for scope in Scope]


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.fixture
def _no_throttle(settings):
    settings.API_THROTTLE_RATE = ""


@pytest.fixture(autouse=True)
def _api_settings(settings):
    settings.API_THROTTLE_RATE = ""  # the throttle's own tests switch it back on


class Caller:
    """Requests with `Authorization: Bearer <secret>`."""

    def __init__(self, secret: str = "", **extra) -> None:
        self.client = Client()
        self.secret = secret
        self.extra = extra

    def __call__(self, method: str, path: str, json=None, *, body=None, headers=None, **kwargs):
        headers = dict(headers or {})
        if self.secret:
            headers.setdefault("Authorization", f"Bearer {self.secret}")
        data = body if body is not None else (jsonlib.dumps(json) if json is not None else None)
        call = getattr(self.client, method.lower())
        options = {"headers": headers, **self.extra, **kwargs}
        if data is not None:
            options.update(data=data, content_type=kwargs.pop("content_type", "application/json"))
        return call(path, **options)


def caller_for(user, scopes=ALL_SCOPES, **fields) -> Caller:
    """A key of `user`'s, for their first department unless another is given."""
    fields.setdefault("department", Department.objects.of(user).first())
    key, secret = ApiKey.issue(user, fields.pop("name", "Billing"), scopes, **fields)
    caller = Caller(secret)
    caller.key = key
    return caller


@pytest.fixture
def key_for():
    return caller_for
