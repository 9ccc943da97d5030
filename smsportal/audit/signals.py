"""Log-in, log-out and failed log-ins, from Django's own signals (every log-in path sends them:
the portal's page, its code step, the admin)."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from smsportal.core import audit


@receiver(user_logged_in, dispatch_uid="audit_login")
def logged_in(sender, request, user, **kwargs) -> None:
    device = getattr(user, "otp_device", None)
    audit.record(
        "login",
        user,
        actor=user,
        request=request,
        **({"second_factor": device.name} if device is not None else {}),
    )


@receiver(user_logged_out, dispatch_uid="audit_logout")
def logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        audit.record("logout", user, actor=user, request=request)


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def login_failed(sender, credentials, request=None, **kwargs) -> None:
    # Django has already replaced the password in `credentials` by stars; only the name is kept.
    audit.record(
        "login_failed",
        actor_name=str(credentials.get("username", "")),
        request=request,
        step="code" if sender == "smsportal.users.views" else "password",
    )
