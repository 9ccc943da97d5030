"""Two-factor log-in in the browser: set up from the profile page with the QR code's key, then
every log-in asks for a code — as Operator, Manager and superuser."""

from __future__ import annotations

from base64 import b32decode

import pytest
from django.contrib.auth.models import Group
from django_otp.oath import totp
from playwright.sync_api import expect

from smsportal.core.roles import MANAGER, OPERATOR
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def app_code(secret: str, steps_ahead: int) -> str:
    """What an authenticator app given `secret` shows (a step ahead: each code works once)."""
    key = b32decode(secret.replace(" ", "") + "=" * (-len(secret.replace(" ", "")) % 8))
    return f"{totp(key, drift=steps_ahead):06d}"


def make_user(role: str):
    if role == "superuser":
        return UserFactory(username="root", is_superuser=True, is_staff=True)
    user = UserFactory(username=role.lower())
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.mark.parametrize("role", [MANAGER, OPERATOR, "superuser"])
def test_a_user_turns_on_two_factor_and_must_then_give_a_code_to_log_in(
    page, live_server, login, role, settings
):
    settings.OTP_TOTP_SYNC = False  # see tests/users/conftest.py
    user = make_user(role)
    login(user, PASSWORD)
    page.locator("#user-menu").click()
    page.get_by_role("link", name="Your profile").click()
    page.get_by_role("link", name="Set up two-factor log-in").click()
    page.get_by_role("button", name="Begin").click()

    expect(page.locator(".qr-code svg")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("Code", exact=True).fill("000000")
    page.get_by_role("button", name="Turn on").click()
    expect(page.locator(".invalid-feedback")).to_contain_text("That code is not right")
    page.wait_for_timeout(1100)  # the device waits a second after a wrong code
    page.get_by_label("Code", exact=True).fill(app_code(secret, 0))
    page.get_by_role("button", name="Turn on").click()

    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.get_by_role("link", name="I have saved them").click()
    expect(page.locator("#two-factor")).to_contain_text("On")

    page.locator("#user-menu").click()
    page.get_by_role("button", name="Log out").click()
    login(user, PASSWORD)

    expect(page.get_by_role("heading", name="Your code")).to_be_visible()
    page.goto(f"{live_server.url}/messages/")  # nothing is open between the two steps
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    login(user, PASSWORD)
    page.get_by_label("Code", exact=True).fill(app_code(secret, 1))
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
