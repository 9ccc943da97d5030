"""Which provider addresses an account may point at.

The portal sends an account's username and password to its base URL on every call, so an address
is also where those credentials go. By default only a public host is accepted: an address on the
portal's own machine or network (127.0.0.1, 10.x, 169.254.169.254, a name that resolves there)
would let anyone allowed to edit an account make the server call into places it should not
(server-side request forgery). `PROVIDER_PRIVATE_HOSTS` lists the exceptions; its default holds
the sandbox's 127.0.0.1 and localhost so `make run`'s demo accounts work.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# Which scheme each kind speaks; SMS Centre is SMPP over TCP, the others HTTP.
SCHEMES = {"smscentre": ("smpp",)}
HTTP_SCHEMES = ("http", "https")


def schemes_for(kind: str) -> tuple[str, ...]:
    return SCHEMES.get(kind, HTTP_SCHEMES)


def host_of(url: str) -> str:
    """The host and port an address points at ('' when it is not a URL), for comparing."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ""
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port or ''}"


def resolve(host: str) -> list[str]:
    """Every address `host` resolves to (a seam for tests; the real one asks the resolver)."""
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return sorted({info[4][0] for info in infos})


def allowed_private_hosts() -> set[str]:
    return {host.strip().lower().strip("[]") for host in settings.PROVIDER_PRIVATE_HOSTS}


def validate_base_url(
    url: str,
    kind: str,
    *,
    allowed_hosts: set[str] | None = None,
    setting: str = "PROVIDER_PRIVATE_HOSTS",
    callee: str = gettext_lazy("providers"),
) -> None:
    """Raise ValidationError, in plain words, unless `url` is an address this kind may use.

    Other outgoing calls (forwarding to staff's endpoints) reuse the check with their own list
    of allowed private hosts (`allowed_hosts`, from `setting`) and their own words (`callee`)."""
    schemes = schemes_for(kind)
    example = "smpp://host:port" if schemes == ("smpp",) else "https://host/path"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (a port that is not a number raises here)
    except ValueError:
        raise ValidationError(
            _("This is not an address; write it like %(example)s.") % {"example": example}
        ) from None
    if parts.scheme.lower() not in schemes:
        raise ValidationError(
            _("The address must start with %(schemes)s (like %(example)s).")
            % {"schemes": _(" or ").join(s + "://" for s in schemes), "example": example}
        )
    host = (parts.hostname or "").lower()
    if not host:
        raise ValidationError(
            _("The address has no host; write it like %(example)s.") % {"example": example}
        )
    if parts.username or parts.password:
        raise ValidationError(
            _("Put the username and password in their own fields, not in the address.")
        )
    allowed = allowed_private_hosts() if allowed_hosts is None else allowed_hosts
    if host in allowed:
        return
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            addresses = [ipaddress.ip_address(a.split("%")[0]) for a in resolve(host)]
        except (OSError, UnicodeError, ValueError):
            raise ValidationError(
                _("The host %(host)s cannot be found.") % {"host": host}, code="host_not_found"
            ) from None
    private = [str(a) for a in addresses if not a.is_global]
    if private or not addresses:
        where = f" ({', '.join(private)})" if private and private != [host] else ""
        raise ValidationError(
            _(
                "%(host)s%(where)s is not a public address. The portal only calls %(callee)s on "
                "the internet, unless an administrator lists the host in %(setting)s."
            )
            % {"host": host, "where": where, "callee": callee, "setting": setting}
        )
