"""A short request path for URLs that machines call: providers' callbacks (`/hooks/…`).

A delivery report is one small GET, thousands a minute, with no session, no user, no form and
no page; its view is secured by the account's token in the URL (no login, no CSRF). Yet through
the full stack it paid for every middleware of a staff page (sessions, locale, CSRF,
authentication, two-factor, messages, htmx, the Content-Security-Policy header …) and for
resolving its URL among every pattern of the site: half of what the portal spent on a report
beside the same SQL behind a bare WSGI app (bench/dlr_floor.py).

Here a request whose path resolves in a narrow URLconf (`LEAN_URLCONF`: the hook URLs only, the
same views as the site's) goes through Django's own handler with a short middleware list for
its URL (`LEAN_MIDDLEWARE`): the same request and response objects, database connection handling
(`close_old_connections` at the start and end of each request), exception handling and logging.
Every other request — a hook URL that does not resolve included, so its 404 is the site's —
takes the full handler unchanged.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler, get_path_info
from django.urls import Resolver404, ResolverMatch, get_resolver
from django.utils.module_loading import import_string

# The hook URLs, under the same paths and names as in the site's URLconf.
LEAN_URLCONF = "smsportal.lean_urls"
_SECURITY = "django.middleware.security.SecurityMiddleware"
_HUGE_NUMBERS = "smsportal.core.middleware.RefuseHugeNumbers"
_COMMON = "django.middleware.common.CommonMiddleware"
_AUDIT_CONTEXT = "smsportal.core.audit.AuditContextMiddleware"
# What each callback still needs of the site's middleware, in the site's order. Every one: the
# HTTPS redirect and security headers (SECURE_*), a number beyond 64 bits answered 400 as
# everywhere else, and the Host header checked against ALLOWED_HOSTS (CommonMiddleware). A
# callback that may change audited rows (an incoming SMS: an opt-out by reply) also the audit
# context, so the change is put down to the provider's address; a delivery report changes none
# (deliveries, their events and the daily summary are not audited), and the context costs a
# report a signal connected and disconnected. Nothing here reads a session, a user or a
# cookie. A hook URL not named here takes the full handler.
LEAN_MIDDLEWARE = {
    "hooks:isms_dlr": (_SECURITY, _HUGE_NUMBERS, _COMMON),
    "hooks:isms_incoming": (_SECURITY, _HUGE_NUMBERS, _COMMON, _AUDIT_CONTEXT),
}
# Every path of LEAN_URLCONF begins so: any other request pays one string comparison.
LEAN_PREFIX = "/hooks/"
# Where the resolver match found by `lean_match` travels to the handler.
MATCH_KEY = "smsportal.lean_match"


def lean_match(environ: dict) -> ResolverMatch | None:
    """The match of the request's path in the lean URLconf, or None: the full handler's."""
    path = get_path_info(environ) or "/"
    if not path.startswith(LEAN_PREFIX):
        return None
    try:
        match = get_resolver(LEAN_URLCONF).resolve(path)
    except Resolver404:
        return None
    return match if match.view_name in LEAN_MIDDLEWARE else None


class LeanRequests(BaseHandler):
    """Django's handler with a short middleware list (one of LEAN_MIDDLEWARE's) instead of
    settings.MIDDLEWARE, resolving the path in LEAN_URLCONF (mixed into the WSGI handler, and
    into the test client's handler in tests/support/lean.py)."""

    def __init__(self, middleware: tuple[str, ...], *args, **kwargs) -> None:
        self.middleware = middleware
        super().__init__(*args, **kwargs)

    def load_middleware(self, is_async: bool = False) -> None:
        if is_async:
            raise ImproperlyConfigured("The lean request path is synchronous (WSGI).")
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        handler = convert_exception_to_response(self._get_response)
        for path in reversed(self.middleware):
            middleware = import_string(path)(handler)
            # Django's loop, for the hooks a middleware of this list may define.
            if hasattr(middleware, "process_view"):
                self._view_middleware.insert(0, middleware.process_view)
            if hasattr(middleware, "process_template_response"):
                self._template_response_middleware.append(middleware.process_template_response)
            if hasattr(middleware, "process_exception"):
                self._exception_middleware.append(middleware.process_exception)
            handler = convert_exception_to_response(middleware)
        self._middleware_chain = handler

    def resolve_request(self, request) -> ResolverMatch:
        match = request.environ.get(MATCH_KEY)
        if match is None:  # called without lean_match (a test): resolve here
            match = get_resolver(LEAN_URLCONF).resolve(request.path_info)
        request.resolver_match = match
        return match


class LeanWSGIHandler(LeanRequests, WSGIHandler):
    pass


class RoutedApplication:
    """gunicorn's entry point (smsportal/wsgi.py): a machine's URL takes the lean handler,
    every other request the full one."""

    def __init__(self, full: WSGIHandler) -> None:
        if settings.ROOT_URLCONF == LEAN_URLCONF:
            raise ImproperlyConfigured("LEAN_URLCONF must not be the site's URLconf.")
        self.full = full
        # One handler for each middleware list (handlers hold no request state).
        handlers = {chain: LeanWSGIHandler(chain) for chain in set(LEAN_MIDDLEWARE.values())}
        self.lean = {name: handlers[chain] for name, chain in LEAN_MIDDLEWARE.items()}

    def __call__(self, environ, start_response):
        match = lean_match(environ)
        if match is None:
            return self.full(environ, start_response)
        environ[MATCH_KEY] = match
        return self.lean[match.view_name](environ, start_response)
