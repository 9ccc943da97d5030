"""RFC 9457 problem details (`application/problem+json`), the shape of every error the HTTP API
answers. Here in core so that guards below the API app (core/middleware.py) answer an API
client in the same shape; the API's exception handler is smsportal/api/problems.py."""

from __future__ import annotations

from django.http import JsonResponse

PROBLEM_TYPE = "https://smsportal.invalid/problems/"  # + code; a name, not a page to fetch
CONTENT_TYPE = "application/problem+json"
API_PREFIX = "/api/"


def problem_body(status_code: int, code: str, title: str, detail: str, errors=None) -> dict:
    body = {
        "type": PROBLEM_TYPE + code,
        "title": title,
        "status": status_code,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    return body


def problem_response(
    status_code: int, code: str, title: str, detail: str, errors=None
) -> JsonResponse:
    """A problem answered outside DRF (unknown URLs under /api/, guards of every request)."""
    return JsonResponse(
        problem_body(status_code, code, title, detail, errors),
        status=status_code,
        content_type=CONTENT_TYPE,
    )
