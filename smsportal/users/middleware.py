"""Two-factor log-in, enforced for every page.

After django-otp's OTPMiddleware (which marks a session verified by a code). A logged-in user
whose session was not verified by a code, although they have two-factor log-in on (they turned
it on in another browser), is logged out: that session never gave the second factor. A user for
whom it is required (TWO_FACTOR_REQUIRED_FOR_MANAGERS) and who has none is sent to set it up
before anything else. Requests authenticated otherwise (API keys) carry no session user and pass.
"""

from __future__ import annotations

from django.contrib import auth, messages
from django.contrib.auth import middleware as auth_middleware
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _

from . import backends, two_factor

# Pages an unverified user may still reach: the log-in steps, the set-up itself, log-out.
OPEN = {
    "login",
    "logout",
    "users:two_factor_verify",
    "users:two_factor_setup",
    "users:two_factor_start",
    "users:recovery_codes",
}


class AuthenticationMiddleware(auth_middleware.AuthenticationMiddleware):
    """Django's: `request.user`, loaded when first read, through the backend the session names
    (users/backends.py: the user, their preferences and two-factor state in one query). A
    session that names Django's ModelBackend, begun before, is carried over to ours first."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: _user(request))


def _user(request: HttpRequest):
    if not hasattr(request, "_cached_user"):
        backends.carry_over(request.session)
    return auth_middleware.get_user(request)


class TwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return None
        match = request.resolver_match
        name = match.view_name if match else ""
        if name in OPEN - {"users:two_factor_setup", "users:two_factor_start"}:
            return None
        if two_factor.is_on_for(user):
            auth.logout(request)
            messages.info(request, _("Log in again with your code."))
            return _redirect(request, reverse("login"))
        if two_factor.is_required_for(user) and name not in OPEN:
            messages.info(request, _("Your role needs two-factor log-in. Set it up to go on."))
            return _redirect(request, reverse("users:two_factor_setup"))
        return None


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url  # a fragment request would swap the page into a corner
        return response
    return redirect(url)
