"""What every API view shares: key authentication, scope-and-role permission, the per-key
throttle, the size-limited JSON parser, problem details, and one log line per request."""

from __future__ import annotations

import logging

from django.conf import settings
from rest_framework import generics
from rest_framework.views import APIView

from smsportal.core.client_ip import client_ip

from ..authentication import ApiKeyAuthentication
from ..parsers import LimitedJSONParser, too_large
from ..permissions import ScopeAndRole
from ..throttling import PerKeyThrottle

log = logging.getLogger("smsportal.api")


class ApiMixin:
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [ScopeAndRole]
    throttle_classes = [PerKeyThrottle]
    parser_classes = [LimitedJSONParser]
    metadata_class = None  # OPTIONS answers 405: the schema describes the API
    # method -> (scope, Django permissions of the key's user); see permissions.py
    access: dict[str, tuple[str, list[str]]] = {}
    max_body_bytes: int | None = None  # None: API_MAX_BODY_BYTES

    def initial(self, request, *args, **kwargs):
        limit = self.max_body_bytes or settings.API_MAX_BODY_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            raise too_large(limit)
        super().initial(request, *args, **kwargs)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        django_request = request._request
        key = getattr(django_request, "api_key", None)
        prefix = key.prefix if key else getattr(django_request, "api_key_prefix", "") or "-"
        code = (
            response.data.get("code", "")
            if response.status_code >= 400 and isinstance(response.data, dict)
            else ""
        )
        level = logging.INFO if response.status_code < 500 else logging.ERROR
        log.log(
            level,
            "API %s %s key=%s user=%s from %s: %s%s",
            request.method,
            request.path,
            prefix,
            key.user.get_username() if key else "-",
            client_ip(django_request),
            response.status_code,
            f" {code}" if code else "",
        )
        return response


class ApiView(ApiMixin, APIView):
    pass


class ApiGenericView(ApiMixin, generics.GenericAPIView):
    pass
