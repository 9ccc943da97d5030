"""Every error the API answers is an RFC 9457 problem detail (`application/problem+json`):
`type`, `title`, `status`, `detail`, a machine-readable `code`, and for bad input `errors`, one
per field (`field` is a JSON path such as `to[2]`).

Views raise `Problem` (or a DRF exception); `problem_handler` (REST_FRAMEWORK's
EXCEPTION_HANDLER) turns either into the answer. Codes are listed in docs/api.md.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

from smsportal.core.problem_details import CONTENT_TYPE, problem_body

# DRF's own exceptions: (status, code, title), by class.
TITLES = {
    exceptions.ParseError: ("malformed_request", "The request body is not valid JSON"),
    exceptions.AuthenticationFailed: ("invalid_key", "The API key was not accepted"),
    exceptions.NotAuthenticated: ("key_missing", "An API key is needed"),
    exceptions.PermissionDenied: ("forbidden", "Not allowed"),
    exceptions.NotFound: ("not_found", "Not found"),
    exceptions.MethodNotAllowed: ("method_not_allowed", "Method not allowed"),
    exceptions.NotAcceptable: ("not_acceptable", "Cannot answer in that format"),
    exceptions.UnsupportedMediaType: ("unsupported_media_type", "Send JSON"),
    exceptions.Throttled: ("rate_limited", "Too many requests"),
    exceptions.ValidationError: ("invalid_request", "The request has invalid fields"),
}


class Problem(exceptions.APIException):
    """A problem a view reports: HTTP status, machine-readable code, title and detail."""

    def __init__(
        self,
        status_code: int,
        code: str,
        title: str,
        detail: str = "",
        errors: list[dict] | None = None,
        headers: dict | None = None,
    ) -> None:
        super().__init__(detail or title, code)
        self.status_code = status_code
        self.code = code
        self.title = title
        self.errors = errors or []
        self.extra_headers = headers or {}


def field_errors(detail, path: str = "") -> list[dict]:
    """DRF's nested validation detail as a flat list of {field, code, detail}."""
    found: list[dict] = []
    if isinstance(detail, dict):
        for name, value in detail.items():
            if name == "non_field_errors":
                sub = path
            elif isinstance(name, int):  # a ListField's errors, by position
                sub = f"{path}[{name}]"
            else:
                sub = f"{path}.{name}" if path else name
            found += field_errors(value, sub)
    elif isinstance(detail, list):
        if all(isinstance(item, exceptions.ErrorDetail | str) for item in detail):
            for item in detail:
                code = getattr(item, "code", "invalid")
                found.append({"field": path, "code": code, "detail": str(item)})
        else:
            for index, item in enumerate(detail):
                found += field_errors(item, f"{path}[{index}]")
    else:
        found.append(
            {"field": path, "code": getattr(detail, "code", "invalid"), "detail": str(detail)}
        )
    return found


def problem_handler(exc, context) -> Response | None:
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None  # a bug: Django's 500 handling, logged with its traceback
    headers = {}
    errors = None
    if isinstance(exc, Problem):
        code, title, detail, errors = exc.code, exc.title, str(exc.detail), exc.errors
        headers.update(exc.extra_headers)
    else:
        code, title = next(
            (found for cls, found in TITLES.items() if isinstance(exc, cls)),
            ("error", "Error"),
        )
        if isinstance(exc, exceptions.ValidationError):
            errors = field_errors(exc.detail)
            detail = "; ".join(
                f"{e['field']}: {e['detail']}" if e["field"] else e["detail"] for e in errors
            )
        else:
            detail = str(exc.detail)
            own = getattr(exc.detail, "code", None)
            # our own raise sites name a precise code (missing_scope, key_revoked, ...)
            if own and own not in {
                "error",
                "invalid",
                "parse_error",
                "not_found",
                "permission_denied",
                "authentication_failed",
                "not_authenticated",
                "method_not_allowed",
                "throttled",
                "unsupported_media_type",
                "not_acceptable",
            }:
                code = own
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            headers["Retry-After"] = str(max(1, int(exc.wait + 0.999)))
            detail = f"This key made too many requests; try again in {headers['Retry-After']} s."
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    response = Response(
        problem_body(exc.status_code, code, title, detail, errors),
        status=exc.status_code,
        headers=headers,
        content_type=CONTENT_TYPE,
    )
    return response


def refused(code: str, detail: str) -> Problem:
    """A send or change the portal will not make (422), with the reason staff would see."""
    return Problem(status.HTTP_422_UNPROCESSABLE_ENTITY, code, "Refused", detail)
