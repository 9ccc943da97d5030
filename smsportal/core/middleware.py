"""Request guards that hold for every view, the Django admin's included."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

from .problem_details import API_PREFIX, problem_response

# The largest number any of our columns holds (a 64-bit signed integer: ids, counts).
LARGEST_NUMBER = 2**63 - 1
NUMBER = re.compile(r"[+-]?[0-9]+")
# Free text that may well be a long run of digits (a search, a message, pasted numbers).
FREE_TEXT = {"q", "text", "to"}


class RefuseHugeNumbers:
    """A query parameter holding a number beyond 64 bits answers 400, naming the parameter.

    Views and the admin's filters turn such values into database lookups, and SQLite raises
    OverflowError ("Python int too large to convert to SQLite INTEGER") where PostgreSQL would
    find nothing: a 500 for `?page=99999999999999999999999`. No id, page or count of ours can be
    that large, so the request is wrong, and saying so here covers every view at once.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        for name, values in request.GET.lists():
            if name in FREE_TEXT:
                continue
            for value in values:
                text = value.strip()
                if NUMBER.fullmatch(text) and abs(int(text)) > LARGEST_NUMBER:
                    return too_large(request, name[:40])
        return self.get_response(request)


def too_large(request: HttpRequest, name: str) -> HttpResponse:
    detail = f"The number in “{name}” is too large."
    if request.path.startswith(API_PREFIX):  # the API answers every error as a problem
        error = {"field": name, "code": "invalid", "detail": detail}
        return problem_response(
            400, "invalid_request", "The request has invalid fields", detail, [error]
        )
    return HttpResponseBadRequest(detail + "\n", content_type="text/plain; charset=utf-8")
