"""A person's own preferences: language, time zone and digits."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from .forms import PreferenceForm
from .models import Preference


def preferences(request: HttpRequest) -> HttpResponse:
    """The preferences form's address. The form itself is a section of the profile page (one
    page for a person's settings: core/profile.py), where a GET of this old page now leads."""
    profile = reverse("users:profile") + "#preferences"
    if request.method != "POST":
        return redirect(profile)
    form = PreferenceForm(request.POST, instance=own_preference(request.user))
    if form.is_valid():
        preference = form.save()
        response = redirect(profile)
        _remember_language(response, preference.language)
        # The message is read on the next page, in the language just chosen.
        with translation.override(preference.language or translation.get_language()):
            messages.success(request, _("Your preferences are saved."))
        return response
    # A refused choice (a tampered value: the form offers only valid ones) is shown with its
    # reason on the form alone.
    return render(request, "registration/preferences.html", {"form": form})


def own_preference(user) -> Preference:
    """The user's preferences; reading them stores nothing (the row is made by the first save)."""
    return Preference.objects.filter(user=user).first() or Preference(user=user)


def preferences_section(request: HttpRequest):
    """PROFILE_SECTIONS entry: language, time zone and digits, on the profile page."""
    if not request.user.is_authenticated:
        return None
    form = PreferenceForm(instance=own_preference(request.user))
    return "registration/_preferences.html", {"form": form}


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The user menu's language switcher: Django's `set_language` (the cookie, the safe
    redirect to `next`), and the choice kept in the person's preferences so that it follows
    them to another browser."""
    response = django_set_language(request)
    code = request.POST.get("language", "")
    if code in dict(settings.LANGUAGES):
        Preference.objects.update_or_create(user=request.user, defaults={"language": code})
    return response


def _remember_language(response: HttpResponse, code: str) -> None:
    """The log-in page (before anyone is known) speaks the language last chosen here."""
    if code:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            code,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        )
    else:
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
