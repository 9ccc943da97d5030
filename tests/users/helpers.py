"""Codes as an authenticator app would show them."""

from __future__ import annotations

from django_otp.oath import totp

from smsportal.users import two_factor


def app_code(device, steps_ahead: int = 0) -> str:
    """The code `device`'s app shows `steps_ahead` 30-second steps from now (the device accepts
    one step either side; each accepted step must be later than the last)."""
    device.refresh_from_db()
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, steps_ahead):06d}"


def turn_on(user) -> tuple:
    """Two-factor log-in on for `user`, as the set-up page does it; (device, recovery codes)."""
    device = two_factor.start_setup(user)
    codes = two_factor.confirm_setup(device, app_code(device))
    assert codes is not None
    device.refresh_from_db()
    return device, codes


def log_in_with_code(client, user, device, steps_ahead: int = 1) -> None:
    """Both log-in steps, as the log-in pages take them."""
    from django.urls import reverse

    from tests.factories import PASSWORD

    client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    response = client.post(
        reverse("users:two_factor_verify"), {"code": app_code(device, steps_ahead)}
    )
    assert response.status_code == 302, response.content
