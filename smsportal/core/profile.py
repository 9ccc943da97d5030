"""Sections other apps add to the user's profile page (users/profile.html).

The page belongs to the users app; a feature (the API's keys, say) adds its part by appending
a callable to PROFILE_SECTIONS in its AppConfig.ready(), so neither imports the other. Each
callable takes the request and returns (template, context) to include, or None to show nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest

Section = tuple[str, dict]
PROFILE_SECTIONS: list[Callable[[HttpRequest], Section | None]] = []


def profile_sections(request: HttpRequest) -> list[dict]:
    """The registered sections for this request, as {template, context} for the page."""
    found = [section for build in PROFILE_SECTIONS if (section := build(request))]
    return [{"template": template, "context": context} for template, context in found]
