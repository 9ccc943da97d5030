"""Requests per key per period (API_THROTTLE_RATE, e.g. "600/min"); over it, 429 with
Retry-After. Counted in Django's cache: with the default local-memory cache each web process
counts on its own, so with N processes a key may make up to N times the rate; point CACHES at a
shared cache (Redis, Memcached) for one count across processes."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class PerKeyThrottle(SimpleRateThrottle):
    scope = "api_key"

    def get_rate(self):
        return settings.API_THROTTLE_RATE or None

    def get_cache_key(self, request, view):
        key = request.auth
        if key is None:
            return None
        return f"throttle:api-key:{key.pk}"
