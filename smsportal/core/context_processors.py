from __future__ import annotations

from django.http import HttpRequest


def roles(request: HttpRequest) -> dict:
    """`is_manager` for templates, to hide links a user may not follow (views still check)."""
    user = getattr(request, "user", None)
    is_manager = bool(
        user and user.is_authenticated and user.has_perm("providers.change_provideraccount")
    )
    return {"is_manager": is_manager}
