"""Two-factor log-in: one authenticator app (TOTP) and a set of single-use recovery codes per user.

django-otp holds the devices and checks the codes: a TOTP code is refused if its time step is
not later than the last one accepted (so a code seen over someone's shoulder cannot be used
again), a recovery code is deleted when used, and each device slows down repeated wrong codes
(OTP_TOTP_THROTTLE_FACTOR). This module is the portal's vocabulary on top of it.
"""

from __future__ import annotations

import re
from base64 import b32encode

import qrcode
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from qrcode.image.svg import SvgPathImage

APP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"
RECOVERY_CODE_COUNT = 10
# What makes a Manager (as the roles context processor decides it).
MANAGER_PERMISSION = "providers.change_provideraccount"


def is_required_for(user) -> bool:
    """Whether this user may use the portal only after setting up two-factor log-in
    (TWO_FACTOR_REQUIRED_FOR_MANAGERS: Managers and superusers)."""
    if not settings.TWO_FACTOR_REQUIRED_FOR_MANAGERS or not user.is_authenticated:
        return False
    return user.is_superuser or user.has_perm(MANAGER_PERMISSION)


def app_device(user) -> TOTPDevice | None:
    """The user's confirmed authenticator app, if two-factor log-in is on."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def is_enabled(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def is_on_for(user) -> bool:
    """`is_enabled`, as read with the user when the request began (users/backends.py loads
    `two_factor_on` in the user's own query), asked of the database for a user loaded otherwise."""
    loaded = getattr(user, "two_factor_on", None)
    return is_enabled(user) if loaded is None else loaded


def pending_app_device(user) -> TOTPDevice | None:
    """The app being set up: shown as a QR code until a code from it confirms it."""
    return TOTPDevice.objects.filter(user=user, confirmed=False).first()


def start_setup(user) -> TOTPDevice:
    """A new, unconfirmed authenticator app with a fresh secret (a set-up begun earlier and never
    confirmed is thrown away). Two-factor log-in is not on until `confirm_setup`."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        return TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)


def confirm_setup(device: TOTPDevice, code: str) -> list[str] | None:
    """Turn two-factor log-in on if `code` is what the app shows now: the device is confirmed,
    any app set up before it is removed, and a new set of recovery codes is returned (shown
    once). None when the code is wrong (nothing changes)."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        if device.confirmed or not device.verify_token(normalise(code)):
            return None
        TOTPDevice.objects.filter(user_id=device.user_id).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        return new_recovery_codes(device.user)


def new_recovery_codes(user) -> list[str]:
    """Replace the user's recovery codes with RECOVERY_CODE_COUNT new ones; the old stop working."""
    with transaction.atomic():
        device, _ = StaticDevice.objects.get_or_create(
            user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
        )
        device.token_set.all().delete()
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
        return codes


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def disable(user) -> None:
    """Two-factor log-in off: the app and the recovery codes are removed."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()


def normalise(code: str) -> str:
    """What people type: "123 456", "abcd-efgh", upper case from a printout."""
    return "".join(code.split()).replace("-", "").lower()


def is_app_code(code: str) -> bool:
    return code.isdigit() and len(code) == 6


def verify(user, code: str) -> Device | None:
    """The device that accepts `code` for `user` (a 6-digit code from the app, otherwise a
    recovery code, which is then used up), or None. Devices are locked while checking, so two
    requests racing with one code cannot both pass."""
    code = normalise(code)
    model = TOTPDevice if is_app_code(code) else StaticDevice
    with transaction.atomic():
        devices = model.objects.select_for_update().filter(user=user, confirmed=True)
        for device in devices:
            if device.verify_token(code):
                return device
    return None


def wait_seconds(user, code: str = "", device: TOTPDevice | None = None) -> int:
    """Seconds before another code is checked, after wrong ones (1, 2, 4, 8 … seconds:
    django-otp's throttling, per device): for `device` being set up, or else for the device that
    `code` is for (the app for 6 digits, the recovery codes otherwise)."""
    if device is not None:
        device.refresh_from_db()
        devices = [device]
    else:
        model = TOTPDevice if is_app_code(normalise(code)) else StaticDevice
        devices = list(model.objects.filter(user=user, confirmed=True))
    waits = [0]
    for each in devices:
        allowed, data = each.verify_is_allowed()
        if not allowed and data and data.get("locked_until"):
            seconds = (data["locked_until"] - timezone.now()).total_seconds()
            waits.append(max(1, int(seconds) + 1))
    return max(waits)


def qr_svg(device: TOTPDevice) -> str:
    """The app's set-up address as an SVG QR code, drawn on the server (no script, no image
    service: the secret never leaves the page)."""
    image = qrcode.make(device.config_url, image_factory=SvgPathImage, border=2)
    svg = image.to_string(encoding="unicode")
    # Sized by the page's CSS (its viewBox keeps the proportions), not in millimetres.
    return re.sub(r'\s(?:width|height)="[^"]*"', "", svg, count=2)


def secret_for_typing(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for an app that cannot scan."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
