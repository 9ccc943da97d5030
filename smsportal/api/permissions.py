"""Two checks, both needed: the key holds the scope, and the key's user holds the permission.

A view names, per HTTP method, the scope and the Django permissions it needs (`access`). A key
never does more than its user's role: an Operator's key with the admin scope still cannot lift
a Manager's opt-out.
"""

from __future__ import annotations

from rest_framework import exceptions, permissions


class ScopeAndRole(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        key = request.auth
        if key is None or not request.user.is_authenticated:
            raise exceptions.NotAuthenticated()
        method = "GET" if request.method == "HEAD" else request.method
        if method not in view.access:
            handler = method.lower()
            if method == "OPTIONS" or not serves(view, handler):
                return True  # the view answers 405 for a method it does not have
            # A handler without an `access` row: refused, never open by omission.
            raise exceptions.PermissionDenied(
                "This endpoint does not say who may use it.", code="role_forbids"
            )
        scope, perms = view.access[method]
        if not key.has_scope(scope):
            raise exceptions.PermissionDenied(
                f"This key lacks the “{scope}” scope.", code="missing_scope"
            )
        missing = [perm for perm in perms if not request.user.has_perm(perm)]
        if missing:
            raise exceptions.PermissionDenied(
                "Your role does not allow this (it needs " + ", ".join(missing) + ").",
                code="role_forbids",
            )
        return True


def serves(view, handler: str) -> bool:
    """Whether the view answers `handler` ("get", "post", ...) rather than 405."""
    return handler in view.http_method_names and hasattr(view, handler)
