"""The portal's URLs, and two views that do nothing but say what the request machinery gave
them: what every page and fragment pays before its own work (tests/users/test_signed_in_user.py)."""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.utils import timezone, translation


def floor(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"{translation.get_language()} {timezone.get_current_timezone_name()}")


@permission_required("messaging.view_message", raise_exception=True)
def operators_floor(request: HttpRequest) -> HttpResponse:
    return floor(request)


urlpatterns = [
    path("floor/", floor),
    path("floor/operators/", operators_floor),
    path("", include("smsportal.urls")),
]
