"""`Authorization: Bearer smsp_…`: the API key, checked and turned into its user.

The request then runs as that user (their role's permissions) and the key (its scopes):
permissions.py asks both. The secret itself is never logged; the key is named by its prefix.
"""

from __future__ import annotations

from django.contrib.auth.models import Permission
from rest_framework import authentication, exceptions

from smsportal.core import audit
from smsportal.core.client_ip import client_ip

from .models import ApiKey


def refuse(request, code: str, detail: str, prefix: str = "") -> exceptions.AuthenticationFailed:
    """The failure to raise; the request log line (views.base) names the key by `prefix`."""
    request._request.api_key_prefix = prefix
    return exceptions.AuthenticationFailed(detail, code)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, raw = header.partition(" ")
        raw = raw.strip()
        if scheme.lower() != "bearer" or not raw:
            raise refuse(request, "invalid_key", "Send the key as “Authorization: Bearer <key>”.")
        split = ApiKey.split(raw)
        if split is None:
            raise refuse(request, "invalid_key", "This is not an API key of this portal.")
        prefix, _ = split
        # One query for the key, its user and its department (a send needs all three).
        key = ApiKey.objects.select_related("user", "department").filter(prefix=prefix).first()
        if key is None or not key.matches(raw):
            raise refuse(request, "invalid_key", "Unknown API key.", prefix)
        if key.is_revoked:
            raise refuse(request, "key_revoked", "This API key was revoked.", prefix)
        if key.is_expired:
            raise refuse(request, "key_expired", "This API key has expired.", prefix)
        if not key.user.is_active:
            raise refuse(request, "user_inactive", "The key's user is deactivated.", prefix)
        address = client_ip(request)
        if not key.allows_address(address):
            request._request.api_key_prefix = prefix
            # the key is genuine, the place is not: forbidden rather than unauthenticated
            raise exceptions.PermissionDenied(
                f"This key may not be used from {address}.", code="address_not_allowed"
            )
        key.record_use(address)
        load_permissions(key.user)
        audit.act_as(key.user)
        request._request.api_key = key  # for the request log line (views.base)
        return key.user, key

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


def load_permissions(user) -> None:
    """Read the user's permissions (their own and their groups') in one query instead of
    ModelBackend's two, into the cache `user.has_perm` reads: read afresh on every request, so
    a role taken away applies to the very next one. A superuser has every permission unread."""
    if user.is_superuser or not user.is_active:
        return
    fields = ("content_type__app_label", "codename")
    own = Permission.objects.filter(user=user).values_list(*fields).order_by()
    groups = Permission.objects.filter(group__user=user).values_list(*fields).order_by()
    user._perm_cache = {f"{app}.{codename}" for app, codename in own.union(groups)}
