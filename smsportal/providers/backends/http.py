"""The one place the portal speaks HTTP to a provider.

One pooled client per account and process (`http_client.PooledClient`: requests' behaviour on
the wire without its work per request; keep-alive connections shared by the threads of a
batch), explicit connect and read timeouts, a User-Agent naming the portal, and one mapping of
transport failures onto the backend errors:

- the connection could not be made -> TransientError(request_sent=False): safe to retry;
- a timeout or a reset once the request was on its way, or a 5xx -> TransientError(request_sent=
  True): the provider may have acted on it;
- any other non-2xx, an empty body or an HTML page -> ProtocolError.

Credentials travel in the query string or body (the providers' design), so neither URLs nor
bodies are ever logged: log lines name the operation, the account and the outcome.

The answer is returned *raw*: a backend parses what the provider said. Redacting first would
corrupt answers whenever the password is a run of digits (the documents' own sample passwords are
`123456` and `1234`): KalaSMS's message id `1234567` or ISMS's `1701:123456` would stop being ids.
The password is removed only from text that is logged, stored or shown, in every form a provider
may echo it (`redact`); `Backend` applies it to everything its operations return or raise.
"""

from __future__ import annotations

import html
import logging
import re
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import quote, quote_plus

import requests
from django.conf import settings

from .base import ProtocolError, TransientError
from .http_client import PooledClient

if TYPE_CHECKING:
    from smsportal.providers.models import ProviderAccount

log = logging.getLogger("smsportal.providers")

USER_AGENT = "SMS-Portal/1.0 (+https://github.com/sms-portal)"
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0

_sessions: dict[tuple, PooledClient] = {}
_sessions_lock = threading.Lock()


def session_for(account: ProviderAccount) -> PooledClient:
    """The pooled client of this account in this process (a cache, not shared state). A new
    login (username, or password: a new ciphertext) gets a new one; keyed by the stored
    ciphertext, the key costs no decryption per request."""
    key = (account.pk, account.base_url, account.username, account.password_ciphertext)
    session = _sessions.get(key)
    if session is None:
        with _sessions_lock:
            session = _sessions.get(key)
            if session is None:
                pool = max(10, settings.SEND_CONCURRENCY * 2)
                session = _sessions[key] = PooledClient(pool, USER_AGENT)
    return session


MASK_CHARACTERS = "*#~•"


def secret_forms(secret: str) -> set[str]:
    """Every way a provider may echo `secret`: as is, percent-encoded (upper- or lower-case hex,
    `+` or `%20` for a space), and HTML-escaped (named or numeric quotes)."""
    if not secret:
        return set()
    forms = {secret}
    for encoded in (quote(secret, safe=""), quote_plus(secret, safe="")):
        forms.add(encoded)
        forms.add(re.sub(r"%[0-9A-F]{2}", lambda m: m[0].lower(), encoded))
    for escaped in (html.escape(secret), html.escape(secret, quote=False)):
        forms.add(escaped)
        forms.add(escaped.replace("&#x27;", "&#39;").replace("&quot;", "&#34;"))
    return forms


def redactor(*secrets: str) -> Callable[[str], str]:
    """A function removing `secrets` from a text in any form `secret_forms` knows; the forms
    and the mask are worked out once, for a whole result.

    The mask is made of a character none of the forms contains, so masking never creates a new
    occurrence (a password of asterisks cannot survive as part of `********`)."""
    forms = sorted(
        set().union(*(secret_forms(s) for s in secrets)), key=len, reverse=True
    )  # the longest first: `%21` before `!`
    mask = next((c for c in MASK_CHARACTERS if not any(c in f for f in forms)), "") * 8

    def redact(text: str) -> str:
        for form in forms:
            if form in text:
                text = text.replace(form, mask)
        return text

    return redact


def redact(text: str, *secrets: str) -> str:
    """`text` without any of `secrets` in any form a provider may echo it."""
    return redactor(*secrets)(text) if text else text


def call(
    account: ProviderAccount,
    operation: str,
    url: str,
    params: dict[str, str],
    *,
    method: str = "POST",
    timeout: tuple[float, float] | None = None,
    encoding: str | None = None,
) -> str:
    """Send one request and return the answer's text, stripped; raise the backend errors.

    `params` go in the body for POST and in the query string for GET. `encoding` forces how the
    body is decoded (providers rarely declare it).
    """
    label = f"{account.name} {operation}"
    timeout = timeout or (CONNECT_TIMEOUT, READ_TIMEOUT)  # read now: tests and settings adjust them
    try:
        if method == "POST":
            response = session_for(account).post(url, data=params, timeout=timeout)
        else:
            response = session_for(account).get(url, params=params, timeout=timeout)
    except (requests.ConnectTimeout, requests.ConnectionError) as exc:
        sent = _maybe_sent(exc)
        log.warning(
            "%s: %s (%s)", label, "no answer" if sent else "could not connect", type(exc).__name__
        )
        reason = "the connection broke" if sent else "could not connect"
        raise TransientError(
            f"{account.get_kind_display()}: {reason}.", request_sent=sent, code="transport"
        ) from None
    except requests.Timeout:
        log.warning("%s: timed out waiting for the answer", label)
        raise TransientError(
            f"{account.get_kind_display()} did not answer within {timeout[1]:.0f} seconds.",
            request_sent=True,
            code="timeout",
        ) from None
    except requests.RequestException as exc:
        log.warning("%s: request failed (%s)", label, type(exc).__name__)
        raise TransientError(
            f"{account.get_kind_display()}: the request failed ({type(exc).__name__}).",
            request_sent=True,
            code="transport",
        ) from None
    if encoding:
        response.encoding = encoding
    elif response.encoding is None or response.encoding.lower() == "iso-8859-1":
        response.encoding = "utf-8"
    body = response.text.strip()  # raw: the backend parses it (see the module's docstring)
    is_page = body.lstrip().startswith("<") or "<html" in body[:500].lower()
    # A web page is no provider's answer (a proxy's, or a server on the network that the base
    # URL points at): it is named, never echoed to staff, not even as an excerpt.
    if response.status_code >= 300:
        # Only an error's answer is kept (as the error's provider text): redacted then, once.
        shown = "" if is_page else redact(body, account.password)
    if response.status_code >= 500:
        log.warning("%s: HTTP %s", label, response.status_code)
        raise TransientError(
            f"{account.get_kind_display()} answered HTTP {response.status_code} (server error).",
            request_sent=True,
            code=f"http-{response.status_code}",
            provider_text=shown[:200],
        )
    if response.status_code >= 300:
        log.warning("%s: HTTP %s", label, response.status_code)
        raise ProtocolError(
            f"{account.get_kind_display()} answered HTTP {response.status_code}.",
            code=f"http-{response.status_code}",
            provider_text=shown[:200],
        )
    if not body:
        log.warning("%s: empty answer", label)
        raise ProtocolError(f"{account.get_kind_display()} gave an empty answer.", code="empty")
    if is_page:
        log.warning("%s: answered with an HTML page", label)
        raise ProtocolError(
            f"{account.get_kind_display()} answered with a web page instead of a result.",
            code="html",
        )
    log.info("%s: answered (%d bytes)", label, len(body))
    return body


def _maybe_sent(exc: Exception) -> bool:
    """Whether a connection error happened after the request may have left: a refused or
    unresolvable connection never sent anything; a reset or a dropped answer may have."""
    text = repr(exc)
    never_sent = (
        "NewConnectionError",
        "ConnectTimeout",
        "Connection refused",
        "Name or service not known",
        "NameResolutionError",
        "Failed to establish",
    )
    return not any(marker in text for marker in never_sent)


def unexpected(account: ProviderAccount, operation: str, body: str) -> ProtocolError:
    """The error for an answer that is not in the provider's format.

    Its text is never shown to staff, not even as an excerpt: an answer in no format the portal
    knows is no provider's message (a proxy's, a captive portal's, a wrong base URL's), and may
    carry what it should not. Staff see its size; the log keeps a short, password-free excerpt
    for whoever diagnoses it."""
    excerpt = redact(body, account.password)[:80]  # redacted before cutting: no half password
    log.warning(
        "%s %s: unexpected answer (%d characters): %r", account.name, operation, len(body), excerpt
    )
    return ProtocolError(
        f"{account.get_kind_display()} gave an answer the portal does not understand "
        f"({len(body):,} characters, not shown).",
        code="unexpected",
    )
