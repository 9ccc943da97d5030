"""The Content-Security-Policy header (django-csp), built once instead of on every response.

django-csp's middleware builds the header from the settings for each response, twice (the
policy, then the report-only one, which we do not set): the same string every time, unless a
view changed the policy (`csp.decorators`) or a page asked for a nonce. Here the two strings are
built once per settings; a response with its own policy or a nonce goes through django-csp's
own code unchanged.
"""

from __future__ import annotations

import http.client
from functools import cache

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from django.http.response import HttpResponseBase

SETTINGS = ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY")
# What a view's decorators set on its response (csp.decorators): that response's own policy.
PER_RESPONSE = tuple(
    f"_csp_{kind}{suffix}" for kind in ("config", "update", "replace") for suffix in ("", "_ro")
)
DEBUG_PAGES = (http.client.INTERNAL_SERVER_ERROR, http.client.NOT_FOUND)


@cache
def policies() -> tuple[tuple[str, str, str, tuple[str, ...]], ...]:
    """(header, value, exemption attribute, excluded path prefixes) for the policy and the
    report-only policy, as django-csp builds them from the settings."""
    policies = []
    for header, report_only, exempt in ((HEADER, False, "_csp_exempt"),
                                        (HEADER_REPORT_ONLY, True, "_csp_exempt_ro")):  # fmt: skip
        setting = SETTINGS[report_only]
        prefixes = (getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES") or ()
        value = build_policy(report_only=report_only)
        policies.append((header, value, exempt, tuple(prefixes)))
    return tuple(policies)


@receiver(setting_changed)
def forget_policies(*, setting: str, **kwargs) -> None:
    if setting in SETTINGS:
        policies.cache_clear()


class CSPMiddleware(DjangoCSPMiddleware):
    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        own_policy = any(getattr(response, name, None) is not None for name in PER_RESPONSE)
        if own_policy or getattr(request, "_csp_nonce", None) is not None:
            return super().process_response(request, response)
        if response.status_code in DEBUG_PAGES and settings.DEBUG:
            return response  # Django's debug pages (django-csp leaves them alone too)
        for header, value, exempt, prefixes in policies():
            if (
                value
                and header not in response
                and getattr(response, exempt, False) is False
                and not request.path_info.startswith(prefixes)
            ):
                response[header] = value
        # As django-csp does: asking for a nonce once the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
