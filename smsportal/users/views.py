"""The log-in steps (password, then a code when two-factor log-in is on) and the profile page,
where each user sets up, changes or turns off their own two-factor log-in."""

from __future__ import annotations

from urllib.parse import urlencode

import django_otp
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django.contrib import admin, auth, messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_static.models import StaticDevice

from smsportal.core import audit
from smsportal.core.profile import profile_sections

from . import pending, two_factor
from .forms import CodeForm

NEW_CODES_SESSION_KEY = "two_factor_new_codes"


class LogInView(auth_views.LoginView):
    """Django's log-in page; for a user with two-factor log-in on, a right password leads to the
    code step instead of logging in."""

    def form_valid(self, form):
        user = form.get_user()
        if not two_factor.is_enabled(user):
            return super().form_valid(form)
        pending.start(self.request, user, self.get_success_url())
        return redirect("users:two_factor_verify")


@login_not_required
def admin_log_in(request: HttpRequest) -> HttpResponse:
    """The admin site's log-in address, where it sends whom it refuses. Someone logged out goes
    on to the portal's log-in page (one log-in, with its second step: the admin's own would skip
    the code). Someone logged in whom the admin refuses (not staff) would find only a log-in form
    there, with no word on why (the admin's own page says it, the portal's does not): they are
    told that their account has no access, with the way back and the way to log in as another."""
    if request.user.is_authenticated and not admin.site.has_permission(request):
        return _no_admin_access(request)
    query = request.META.get("QUERY_STRING", "")
    return redirect(reverse("login") + (f"?{query}" if query else ""))


def _no_admin_access(request: HttpRequest) -> HttpResponse:
    wanted = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        wanted = reverse("admin:index")
    # Log out, then log in (as someone the admin lets in) and land on the page that was wanted.
    log_in_again = reverse("login") + "?" + urlencode({"next": wanted})
    return render(request, "users/no_admin_access.html", {"log_in_again": log_in_again}, status=403)


@login_not_required
def verify(request: HttpRequest) -> HttpResponse:
    """The second log-in step. A wrong code counts as a failed log-in for django-axes, exactly
    as a wrong password does, so the same lock-out (user and address) covers both steps."""
    waiting = pending.load(request)
    if waiting is None:
        messages.info(request, _("Log in with your username and password first."))
        return redirect("login")
    user, backend, next_url = waiting
    credentials = {"username": user.get_username()}
    if not AxesProxyHandler.is_allowed(request, credentials):
        pending.clear(request)
        return get_lockout_response(request, None, credentials)

    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        wait = two_factor.wait_seconds(user, form.cleaned_data["code"])
        device = None if wait else two_factor.verify(user, form.cleaned_data["code"])
        if device is not None:
            pending.clear(request)
            user.otp_device = device  # django-otp keeps it in the session at log-in
            auth.login(request, user, backend=backend)
            if isinstance(device, StaticDevice):
                left = two_factor.recovery_codes_left(user)
                messages.warning(
                    request,
                    ngettext(
                        "You logged in with a recovery code; %(count)s code left. "
                        "Make new ones on your profile page.",
                        "You logged in with a recovery code; %(count)s codes left. "
                        "Make new ones on your profile page.",
                        left,
                    )
                    % {"count": left},
                )
            return redirect(next_url)
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        if getattr(request, "axes_locked_out", False):
            pending.clear(request)  # AxesMiddleware answers with the lock-out page
        if wait:
            form.add_error("code", _too_many(wait))
        else:
            form.add_error(
                "code",
                _(
                    "That code is not right, or it was used already. Type the code your app "
                    "shows now (check that the phone's clock is right), or a recovery code."
                ),
            )
    return render(request, "users/verify.html", {"form": form, "waiting_user": user})


def _too_many(wait: int) -> str:
    return ngettext(
        "Too many wrong codes. Wait %(count)s second and try again.",
        "Too many wrong codes. Wait %(count)s seconds and try again.",
        wait,
    ) % {"count": f"{wait:,}"}


def profile(request: HttpRequest) -> HttpResponse:
    return render(request, "users/profile.html", _profile_context(request))


def _profile_context(request: HttpRequest, **forms) -> dict:
    user = request.user
    enabled = two_factor.is_enabled(user)
    device = two_factor.app_device(user) if enabled else None
    return {
        "sections": profile_sections(request),  # other apps' parts (core/profile.py)
        "two_factor_on": enabled,
        "app_device": device,
        "two_factor_required": two_factor.is_required_for(user),
        "recovery_codes_left": two_factor.recovery_codes_left(user) if enabled else 0,
        "regenerate_form": forms.get("regenerate_form")
        or CodeForm(prefix="regenerate", recovery_allowed=False),
        "disable_form": forms.get("disable_form") or CodeForm(prefix="disable"),
    }


def setup(request: HttpRequest) -> HttpResponse:
    """The QR code of an app being set up and the code that confirms it; before that, a page
    saying what is about to happen (a required set-up starts here)."""
    device = two_factor.pending_app_device(request.user)
    form = CodeForm(request.POST or None, recovery_allowed=False)
    if request.method == "POST":
        if device is None:
            messages.error(request, _("Start the set-up again: it was finished or cancelled."))
            return redirect("users:two_factor_setup")
        wait = two_factor.wait_seconds(request.user, device=device)
        if form.is_valid() and wait:
            form.add_error("code", _too_many(wait))
        elif form.is_valid():
            codes = two_factor.confirm_setup(device, form.cleaned_data["code"])
            if codes is not None:
                device.refresh_from_db()
                django_otp.login(request, device)  # this session has just proven the app
                request.session[NEW_CODES_SESSION_KEY] = codes
                audit.record("two_factor_on", request.user)
                messages.success(request, _("Two-factor log-in is on."))
                return redirect("users:recovery_codes")
            form.add_error(
                "code",
                _(
                    "That code is not right. Type the code the app shows now; if it still "
                    "fails, check that the phone's clock is set automatically."
                ),
            )
    context = {
        "device": device,
        "form": form,
        "two_factor_on": two_factor.is_enabled(request.user),
        "two_factor_required": two_factor.is_required_for(request.user),
    }
    if device is not None:
        context["qr_svg"] = two_factor.qr_svg(device)
        context["secret"] = two_factor.secret_for_typing(device)
    return render(request, "users/setup.html", context)


@require_POST
def start_setup(request: HttpRequest) -> HttpResponse:
    two_factor.start_setup(request.user)
    return redirect("users:two_factor_setup")


def recovery_codes(request: HttpRequest) -> HttpResponse:
    """New recovery codes, shown once: they are not kept anywhere readable."""
    codes = request.session.pop(NEW_CODES_SESSION_KEY, None)
    if not codes:
        messages.info(request, _("Recovery codes are shown only once. Make new ones here."))
        return redirect("users:profile")
    return render(request, "users/recovery_codes.html", {"codes": codes})


@require_POST
def regenerate_recovery_codes(request: HttpRequest) -> HttpResponse:
    """New recovery codes (the old stop working), after a code from the app."""
    form = CodeForm(request.POST, prefix="regenerate", recovery_allowed=False)
    if not two_factor.is_enabled(request.user):
        return redirect("users:profile")
    if _code_accepted(request, form):
        request.session[NEW_CODES_SESSION_KEY] = two_factor.new_recovery_codes(request.user)
        audit.record("recovery_codes_new", request.user)
        return redirect("users:recovery_codes")
    return render(
        request, "users/profile.html", _profile_context(request, regenerate_form=form), status=400
    )


@require_POST
def disable(request: HttpRequest) -> HttpResponse:
    """Two-factor log-in off, after a code from the app or a recovery code (a session left open
    on someone's desk is not enough)."""
    form = CodeForm(request.POST, prefix="disable")
    if not two_factor.is_enabled(request.user):
        return redirect("users:profile")
    if _code_accepted(request, form):
        two_factor.disable(request.user)
        audit.record("two_factor_off", request.user)
        messages.success(request, _("Two-factor log-in is off."))
        return redirect("users:profile")
    return render(
        request, "users/profile.html", _profile_context(request, disable_form=form), status=400
    )


def _code_accepted(request: HttpRequest, form: CodeForm) -> bool:
    """Whether the form holds a code the user's devices accept; if not, the form says why."""
    if not form.is_valid():
        return False
    wait = two_factor.wait_seconds(request.user, form.cleaned_data["code"])
    if wait:
        form.add_error("code", _too_many(wait))
        return False
    if two_factor.verify(request.user, form.cleaned_data["code"]) is None:
        form.add_error("code", _("That code is not right, or it was used already."))
        return False
    return True
