"""The address of the client that made a request, seen through our own reverse proxies.

Log-in throttling (django-axes, AXES_CLIENT_IP_CALLABLE) and the webhooks' IP allow-lists both
ask here. Only proxies named in TRUSTED_PROXIES (addresses or networks) may say who the client
was, in X-Forwarded-For; anyone else's header is ignored, so a client cannot choose its address.
"""

from __future__ import annotations

import ipaddress
from functools import cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _networks(tuple(settings.TRUSTED_PROXIES)))


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR; or, when that is one of our proxies, the nearest address in X-Forwarded-For
    that is not (each proxy appends the address it saw, so reading from the right, the first
    untrusted entry is the client; entries left of it are the client's own claims)."""
    remote = request.META.get("REMOTE_ADDR", "")
    if not _trusted(remote):
        return remote
    nearest = remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    for entry in reversed([part.strip() for part in forwarded if part.strip()]):
        try:
            ipaddress.ip_address(entry)
        except ValueError:
            return nearest  # garbage where an address should be: the last hop we can vouch for
        if not _trusted(entry):
            return entry
        nearest = entry
    return nearest
