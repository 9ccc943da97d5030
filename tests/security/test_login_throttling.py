from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def axes(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3


def attempt(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_repeated_wrong_passwords_lock_the_user_out_even_with_the_right_one(client, axes, manager):
    assert attempt(client, "manager", "guess").status_code == 200
    assert attempt(client, "manager", "guess").status_code == 200
    assert attempt(client, "manager", "guess").status_code == 429  # the third failure locks

    locked = attempt(client, "manager", PASSWORD)

    assert locked.status_code == 429
    assert b"Too many failed log-in attempts" in locked.content
    assert "_auth_user_id" not in client.session


def test_a_successful_login_resets_the_count(client, axes, manager):
    attempt(client, "manager", "guess")
    attempt(client, "manager", "guess")

    assert attempt(client, "manager", PASSWORD).status_code == 302
