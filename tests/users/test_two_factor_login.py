"""The log-in with two-factor on: password, then a code; lock-out and throttling on the code."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import PASSWORD
from tests.users.helpers import app_code, turn_on

pytestmark = pytest.mark.django_db


def log_in(client, username="manager", password=PASSWORD, **extra):
    return client.post(reverse("login"), {"username": username, "password": password, **extra})


def give_code(client, code):
    return client.post(reverse("users:two_factor_verify"), {"code": code})


def test_without_two_factor_the_password_logs_in(client, manager):
    response = log_in(client)

    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    assert client.session["_auth_user_id"] == str(manager.pk)


def test_with_two_factor_the_password_alone_does_not_log_in(client, manager):
    turn_on(manager)

    response = log_in(client)

    assert response["Location"] == reverse("users:two_factor_verify")
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("dashboard")).status_code == 302  # still the log-in page
    assert client.get("/admin/").status_code == 302


def test_the_right_code_logs_in_and_goes_where_the_user_was_going(client, manager):
    device, _ = turn_on(manager)
    log_in(client, next="/messages/")

    response = give_code(client, app_code(device, 1))

    assert response.status_code == 302
    assert response["Location"] == "/messages/"
    assert client.session["_auth_user_id"] == str(manager.pk)
    assert client.get(reverse("dashboard")).status_code == 200


def test_a_wrong_code_is_refused_with_a_message(client, manager):
    turn_on(manager)
    log_in(client)

    response = give_code(client, "000000")

    assert response.status_code == 200
    assert b"That code is not right" in response.content
    assert "_auth_user_id" not in client.session


def test_a_replayed_code_is_refused(client, manager):
    device, _ = turn_on(manager)
    code = app_code(device, 1)
    log_in(client)
    assert give_code(client, code).status_code == 302
    client.post(reverse("logout"))

    log_in(client)
    replay = give_code(client, code)

    assert replay.status_code == 200
    assert b"it was used already" in replay.content
    assert "_auth_user_id" not in client.session


def test_the_code_that_confirmed_the_app_cannot_then_log_in(client, manager):
    from smsportal.users import two_factor

    device = two_factor.start_setup(manager)
    code = app_code(device)
    two_factor.confirm_setup(device, code)
    log_in(client)

    assert give_code(client, code).status_code == 200
    assert "_auth_user_id" not in client.session


def test_a_recovery_code_logs_in_once(client, manager):
    _, codes = turn_on(manager)
    log_in(client)
    response = give_code(client, codes[0].upper()[:4] + " " + codes[0][4:])  # as printed
    assert response.status_code == 302
    client.post(reverse("logout"))

    log_in(client)
    again = give_code(client, codes[0])

    assert again.status_code == 200
    assert "_auth_user_id" not in client.session


def test_the_code_step_without_a_password_first_goes_back_to_the_log_in(client, manager):
    turn_on(manager)

    response = give_code(client, "123456")

    assert response["Location"] == reverse("login")


def test_the_code_step_expires(client, manager, monkeypatch):
    import time

    device, _ = turn_on(manager)
    log_in(client)
    later = time.time() + 301
    monkeypatch.setattr(time, "time", lambda: later)

    response = give_code(client, app_code(device, 1))

    assert response["Location"] == reverse("login")


def test_repeated_wrong_codes_are_throttled_by_the_device(client, settings, manager):
    # Two wrong codes hold the device for factor × 2 seconds: long enough here that a busy
    # machine cannot let the hold run out before the right code arrives.
    settings.OTP_TOTP_THROTTLE_FACTOR = 300
    device, _ = turn_on(manager)
    log_in(client)
    give_code(client, "000000")
    give_code(client, "111111")

    response = give_code(client, app_code(device, 1))  # right, but too soon after two wrong

    assert b"Too many wrong codes" in response.content
    assert "_auth_user_id" not in client.session


def test_wrong_codes_count_towards_the_lock_out_like_wrong_passwords(client, settings, manager):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # so only the lock-out is at work here
    device, _ = turn_on(manager)
    assert log_in(client, password="guess").status_code == 200  # one wrong password
    log_in(client)
    assert give_code(client, "000000").status_code == 200  # two

    locked = give_code(client, "111111")  # three: locked

    assert locked.status_code == 429
    assert b"Too many failed log-in attempts" in locked.content
    # Locked: neither the right password nor then the right code gets in.
    assert log_in(client).status_code == 429
    assert give_code(client, app_code(device, 1))["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session


def test_a_locked_out_user_cannot_finish_a_code_step_begun_before(client, settings, manager):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 2
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    device, _ = turn_on(manager)
    log_in(client)
    other = type(client)()
    other.post(reverse("login"), {"username": "manager", "password": "guess"})
    other.post(reverse("login"), {"username": "manager", "password": "guess"})  # locked now

    response = give_code(client, app_code(device, 1))

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_admin_log_in_page_leads_to_the_portal_log_in(client):
    response = client.get("/admin/login/?next=/admin/")

    assert response["Location"] == reverse("login") + "?next=/admin/"


def test_a_session_not_verified_by_a_code_is_logged_out_once_two_factor_is_on(client, manager):
    client.force_login(manager)  # e.g. a browser left logged in before two-factor was turned on
    turn_on(manager)

    response = client.get(reverse("dashboard"))

    assert response["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session
