"""Setting two-factor log-in up from the profile page, changing and turning it off; the setting
that requires it for Managers and superusers."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from smsportal.users import two_factor
from tests.factories import UserFactory
from tests.users.helpers import app_code, log_in_with_code, turn_on

pytestmark = pytest.mark.django_db


def test_the_profile_page_offers_the_set_up(manager_client):
    page = manager_client.get(reverse("users:profile"))

    assert page.status_code == 200
    assert b"Set up two-factor log-in" in page.content


def test_set_up_shows_a_qr_code_and_turns_on_only_with_a_right_code(manager_client, manager):
    manager_client.post(reverse("users:two_factor_start"))
    page = manager_client.get(reverse("users:two_factor_setup"))
    assert b"<svg" in page.content and b"<path" in page.content
    assert b"<script" not in page.content.split(b"<main")[1].split(b"</main>")[0]
    device = TOTPDevice.objects.get(user=manager)
    assert not device.confirmed

    wrong = manager_client.post(reverse("users:two_factor_setup"), {"code": "000000"})
    assert b"That code is not right" in wrong.content
    assert not two_factor.is_enabled(manager)
    too_soon = manager_client.post(reverse("users:two_factor_setup"), {"code": app_code(device)})
    assert b"Too many wrong codes. Wait 1 second" in too_soon.content
    device.throttle_reset()  # as a second's wait would

    right = manager_client.post(reverse("users:two_factor_setup"), {"code": app_code(device, 1)})

    assert right["Location"] == reverse("users:recovery_codes")
    assert two_factor.is_enabled(manager)
    codes_page = manager_client.get(reverse("users:recovery_codes"))
    codes = list(StaticToken.objects.filter(device__user=manager).values_list("token", flat=True))
    assert len(codes) == 10
    assert all(code.encode() in codes_page.content for code in codes)
    # Shown once only.
    assert manager_client.get(reverse("users:recovery_codes"))["Location"] == reverse(
        "users:profile"
    )
    # This session proved the app: it goes on without logging in again.
    assert manager_client.get(reverse("dashboard")).status_code == 200


def test_the_qr_code_holds_the_apps_set_up_address(manager):
    device = two_factor.start_setup(manager)

    svg = two_factor.qr_svg(device)

    assert svg.startswith("<svg") and 'viewBox="' in svg and "width=" not in svg
    assert "otpauth://totp/SMS%20Portal%3Amanager" in device.config_url


def test_a_code_with_letters_is_refused_at_set_up(manager_client, manager):
    manager_client.post(reverse("users:two_factor_start"))

    page = manager_client.post(reverse("users:two_factor_setup"), {"code": "abcdefgh"})

    assert b"Type the 6 digits" in page.content


def test_a_new_phone_replaces_the_old_app_once_confirmed(client, manager):
    old, _ = turn_on(manager)
    log_in_with_code(client, manager, old)
    client.post(reverse("users:two_factor_start"))
    new = TOTPDevice.objects.get(user=manager, confirmed=False)

    client.post(reverse("users:two_factor_setup"), {"code": app_code(new, 1)})

    assert list(TOTPDevice.objects.filter(user=manager)) == [new]


def test_new_recovery_codes_need_a_code_and_replace_the_old(client, manager, settings):
    # Two app codes within one 30-second step: the second is a step ahead, which the device
    # accepts only once it has learnt the first one's offset (drift learning, on in production).
    settings.OTP_TOTP_SYNC = True
    device, old_codes = turn_on(manager)
    log_in_with_code(client, manager, device)

    refused = client.post(reverse("users:recovery_codes_regenerate"), {"regenerate-code": "000000"})
    assert refused.status_code == 400
    assert b"That code is not right" in refused.content

    device.refresh_from_db()
    device.throttle_reset()  # as a second's wait would
    done = client.post(
        reverse("users:recovery_codes_regenerate"), {"regenerate-code": app_code(device, 2)}
    )

    assert done["Location"] == reverse("users:recovery_codes")
    tokens = set(StaticToken.objects.filter(device__user=manager).values_list("token", flat=True))
    assert len(tokens) == 10 and not tokens & set(old_codes)


def test_turning_off_needs_a_code(client, manager):
    device, codes = turn_on(manager)
    log_in_with_code(client, manager, device)

    refused = client.post(reverse("users:two_factor_disable"), {"disable-code": "nope"})
    assert refused.status_code == 400
    assert two_factor.is_enabled(manager)
    too_soon = client.post(reverse("users:two_factor_disable"), {"disable-code": codes[3]})
    assert b"Too many wrong codes" in too_soon.content
    StaticDevice.objects.get(user=manager).throttle_reset()  # as a second's wait would

    done = client.post(reverse("users:two_factor_disable"), {"disable-code": codes[3]})

    assert done["Location"] == reverse("users:profile")
    assert not two_factor.is_enabled(manager)
    assert not StaticToken.objects.filter(device__user=manager).exists()


# --- required for Managers and superusers -------------------------------------------------------


@pytest.fixture
def required(settings):
    settings.TWO_FACTOR_REQUIRED_FOR_MANAGERS = True


def test_a_manager_without_it_is_sent_to_set_it_up_before_anything_else(required, manager_client):
    for url in (reverse("dashboard"), reverse("users:profile"), "/messages/", "/admin/"):
        response = manager_client.get(url)
        assert response["Location"] == reverse("users:two_factor_setup"), url

    page = manager_client.get(reverse("users:two_factor_setup"))
    assert b"Your role needs two-factor log-in" in page.content


def test_a_superuser_without_it_is_sent_to_set_it_up(required, client):
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))

    assert client.get("/admin/")["Location"] == reverse("users:two_factor_setup")


def test_an_htmx_request_is_redirected_as_a_whole_page(required, manager_client):
    response = manager_client.get(reverse("dashboard"), HTTP_HX_REQUEST="true")

    assert response["HX-Redirect"] == reverse("users:two_factor_setup")


def test_after_setting_it_up_the_manager_goes_on(required, manager_client, manager):
    manager_client.post(reverse("users:two_factor_start"))
    device = TOTPDevice.objects.get(user=manager)
    manager_client.post(reverse("users:two_factor_setup"), {"code": app_code(device, 1)})

    assert manager_client.get(reverse("dashboard")).status_code == 200


def test_an_operator_is_not_required_to(required, operator_client):
    assert operator_client.get(reverse("dashboard")).status_code == 200


def test_without_the_setting_a_manager_is_not_required_to(manager_client):
    assert manager_client.get(reverse("dashboard")).status_code == 200


def test_the_setting_takes_only_yes_or_no_words(monkeypatch):
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    import smsportal.settings as portal_settings

    monkeypatch.setenv("TWO_FACTOR_REQUIRED_FOR_MANAGERS", "ture")
    with pytest.raises(ImproperlyConfigured, match="TWO_FACTOR_REQUIRED_FOR_MANAGERS"):
        importlib.reload(portal_settings)
    monkeypatch.setenv("TWO_FACTOR_REQUIRED_FOR_MANAGERS", "yes")
    assert importlib.reload(portal_settings).TWO_FACTOR_REQUIRED_FOR_MANAGERS is True
    monkeypatch.delenv("TWO_FACTOR_REQUIRED_FOR_MANAGERS")
    importlib.reload(portal_settings)


def test_the_admin_never_shows_an_apps_secret(client, manager):
    turn_on(manager)
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))

    listing = client.get("/admin/otp_totp/totpdevice/")
    device = TOTPDevice.objects.get(user=manager)
    detail = client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/")

    assert listing.status_code == 200 and detail.status_code == 200
    assert device.key.encode() not in detail.content
    assert two_factor.secret_for_typing(device).split()[0].encode() not in detail.content
