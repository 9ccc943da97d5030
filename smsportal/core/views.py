"""A person's own preferences: language, time zone and digits."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from .forms import PreferenceForm
from .models import Preference


def preferences(request: HttpRequest) -> HttpResponse:
    # Reading the page stores nothing; the row is made by the first save.
    preference = Preference.objects.filter(user=request.user).first() or Preference(
        user=request.user
    )
    form = PreferenceForm(request.POST or None, instance=preference)
    if request.method == "POST" and form.is_valid():
        preference = form.save()
        response = redirect("preferences")
        _remember_language(response, preference.language)
        # The message is read on the next page, in the language just chosen.
        with translation.override(preference.language or translation.get_language()):
            messages.success(request, _("Your preferences are saved."))
        return response
    return render(request, "registration/preferences.html", {"form": form})


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
