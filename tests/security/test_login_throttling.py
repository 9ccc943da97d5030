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


# --- behind our reverse proxy -------------------------------------------------------------------

PROXY = "10.0.0.2"


@pytest.fixture
def behind_proxy(settings, axes):
    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]


def via_proxy(client, client_address, username, password):
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=client_address,
    )


def test_behind_the_proxy_a_guesser_does_not_lock_the_user_out_for_everyone(
    client, behind_proxy, manager
):
    for _ in range(3):
        via_proxy(client, "203.0.113.5", "manager", "guess")
    assert via_proxy(client, "203.0.113.5", "manager", PASSWORD).status_code == 429

    from django.test import Client

    elsewhere = Client()
    assert via_proxy(elsewhere, "198.51.100.7", "manager", PASSWORD).status_code == 302


def test_the_lock_is_per_user_and_address(client, behind_proxy, manager, operator):
    for _ in range(3):
        via_proxy(client, "203.0.113.5", "manager", "guess")

    # The same address may still log in as someone else.
    assert via_proxy(client, "203.0.113.5", "operator", PASSWORD).status_code == 302


def test_the_address_the_proxy_saw_counts_not_what_the_client_claimed(
    client, behind_proxy, manager
):
    # The client sends its own X-Forwarded-For; our proxy appends the address it really saw.
    for fake in ("1.1.1.1", "2.2.2.2", "3.3.3.3"):
        via_proxy(client, f"{fake}, 203.0.113.5", "manager", "guess")

    assert via_proxy(client, "4.4.4.4, 203.0.113.5", "manager", PASSWORD).status_code == 429


def test_a_caller_that_is_not_our_proxy_cannot_choose_its_address(client, behind_proxy, manager):
    for fake in ("1.1.1.1", "2.2.2.2", "3.3.3.3"):
        client.post(
            reverse("login"),
            {"username": "manager", "password": "guess"},
            REMOTE_ADDR="192.0.2.9",
            HTTP_X_FORWARDED_FOR=fake,
        )

    locked = client.post(
        reverse("login"),
        {"username": "manager", "password": PASSWORD},
        REMOTE_ADDR="192.0.2.9",
        HTTP_X_FORWARDED_FOR="4.4.4.4",
    )
    assert locked.status_code == 429


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        ("192.0.2.9", "1.1.1.1", "192.0.2.9"),  # not our proxy: its header is ignored
        ("10.0.0.2", "", "10.0.0.2"),  # our proxy, no header
        ("10.0.0.2", "203.0.113.5", "203.0.113.5"),
        ("10.0.0.2", "1.1.1.1, 203.0.113.5, 10.0.0.7", "203.0.113.5"),  # two of our proxies
        ("10.0.0.2", "not-an-address, 10.0.0.7", "10.0.0.7"),  # garbage: the last hop we trust
        ("10.0.0.2", "2001:db8::1", "2001:db8::1"),
    ],
)
def test_the_client_address_reading(rf, settings, remote, forwarded, expected):
    from smsportal.core.client_ip import client_ip

    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]
    request = rf.get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)

    assert client_ip(request) == expected


def test_a_malformed_trusted_proxy_stops_start_up():
    from tests.core.test_settings import manage

    result = manage("check", DEBUG="true", TRUSTED_PROXIES="10.0.0.1,proxy.example.com")

    assert result.returncode != 0
    assert "TRUSTED_PROXIES: 'proxy.example.com' is not an IP address or network" in result.stderr
