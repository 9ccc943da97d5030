from __future__ import annotations

from django.http import HttpRequest


def roles(request: HttpRequest) -> dict:
    """`is_manager` and `is_operator` for templates, to hide links a user may not follow and to
    name the user's role (views still check)."""
    user = getattr(request, "user", None)
    is_manager = bool(
        user and user.is_authenticated and user.has_perm("providers.change_provideraccount")
    )
    # An Operator's everyday permission; a user holding neither is in no role.
    is_operator = bool(user and user.is_authenticated and user.has_perm("messaging.view_message"))
    return {"is_manager": is_manager, "is_operator": is_operator}
