"""The fixed cast of users and the settings every test runs under."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from smsportal.core.roles import MANAGER, OPERATOR
from tests.factories import UserFactory
from tests.fakes import account, script  # noqa: F401  (fixtures)


@pytest.fixture(autouse=True)
def _test_settings(settings):
    # The manifest exists only after collectstatic; tests serve static files from the finders.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.AXES_ENABLED = False  # throttling has its own tests, which switch it back on


def _member_of(role: str, **kwargs):
    user = UserFactory(**kwargs)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def manager(db):
    return _member_of(MANAGER, username="manager")


@pytest.fixture
def operator(db):
    return _member_of(OPERATOR, username="operator")


@pytest.fixture
def outsider(db):
    """Logged in, but in no role: may see nothing of the portal's data."""
    return UserFactory(username="outsider")


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def operator_client(client, operator):
    client.force_login(operator)
    return client
