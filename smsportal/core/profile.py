"""The user's profile page: who you are, your role, and sections other apps register.

Core imports no feature app, so a feature adds its part of the page (the API's keys, say) by
appending a callable to PROFILE_SECTIONS in its AppConfig.ready(). Each callable takes the
request and returns the template to include and its context, or None to show nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

Section = tuple[str, dict]
PROFILE_SECTIONS: list[Callable[[HttpRequest], Section | None]] = []


def profile(request: HttpRequest) -> HttpResponse:
    sections = [section for build in PROFILE_SECTIONS if (section := build(request))]
    return render(
        request,
        "core/profile.html",
        {"sections": [{"template": t, "context": c} for t, c in sections]},
    )
