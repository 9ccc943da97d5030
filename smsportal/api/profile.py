"""The API keys section of the profile page: create a key (its secret shown once) and revoke.

One view per action serves both the htmx swap of the section and, without JavaScript, the whole
profile page; the secret is rendered in that very answer and never again (no redirect, which
would need to carry it somewhere)."""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import resolve, reverse
from django.views.decorators.http import require_POST

from .forms import ApiKeyForm
from .models import ApiKey

log = logging.getLogger(__name__)
SECTION = "api/_keys.html"


def section_context(request: HttpRequest, form=None, secret: str = "", key=None) -> dict:
    return {
        "keys": ApiKey.objects.filter(user=request.user).select_related("department"),
        "form": form or ApiKeyForm(user=request.user),
        "new_secret": secret,
        "new_key": key,
    }


def api_keys_section(request: HttpRequest):
    """PROFILE_SECTIONS entry: the keys of the user looking at the page (for users in a role:
    a key of a user with none could do nothing)."""
    if not request.user.has_perm("api.add_apikey"):
        return None
    context = getattr(request, "api_keys_context", None) or section_context(request)
    return SECTION, context


def _answer(request: HttpRequest, context: dict, status: int = 200) -> HttpResponse:
    if request.htmx:
        return render(request, SECTION, {"section": context}, status=status)
    request.api_keys_context = context
    # the profile page is the users app's; reached by its URL name, not imported (a sibling)
    response = resolve(reverse("users:profile")).func(request)
    response.status_code = status
    return response


@require_POST
@permission_required("api.add_apikey", raise_exception=True)
def create_key(request: HttpRequest) -> HttpResponse:
    form = ApiKeyForm(request.POST, user=request.user)
    if not form.is_valid():
        return _answer(
            request, section_context(request, form), status=422 if not request.htmx else 200
        )
    key, secret = form.issue()
    log.info("API key %s created by %s with scopes %s", key, request.user, ",".join(key.scopes))
    return _answer(request, section_context(request, secret=secret, key=key))


@require_POST
@permission_required("api.add_apikey", raise_exception=True)
def revoke_key(request: HttpRequest, pk: int) -> HttpResponse:
    key = get_object_or_404(ApiKey, pk=pk, user=request.user)
    if key.revoke():
        log.info("API key %s revoked by %s", key, request.user)
    return _answer(request, section_context(request))
