"""A short request path for URLs that machines call: providers' callbacks (`/hooks/…`).

A delivery report is one small GET, thousands a minute, with no session, no user, no form and
no page; its view is secured by the account's token in the URL (no login, no CSRF). Yet through
the full stack it paid for every middleware of a staff page (sessions, locale, CSRF,
authentication, two-factor, messages, htmx, the Content-Security-Policy header …) and for
resolving its URL among every pattern of the site: half of what the portal spent on a report
beside the same SQL behind a bare WSGI app (bench/dlr_floor.py).

Here a request whose path resolves in a narrow URLconf (`LEAN_URLCONF`: the hook URLs only, the
same views as the site's) goes through Django's own handler with a short middleware list
(`LEAN_MIDDLEWARE`): the same request and response objects, database connection handling
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
# What a provider's callback still needs of the site's middleware, in the site's order: HTTPS
# redirect and security headers (SECURE_*); a number beyond 64 bits answered 400 as everywhere
# else; the audit context, so that what a callback changes (an opt-out by reply) is put down to
# the provider's address. Nothing here reads a session, a user or a cookie.
LEAN_MIDDLEWARE = (
    "django.middleware.security.SecurityMiddleware",
    "smsportal.core.middleware.RefuseHugeNumbers",
    "smsportal.core.audit.AuditContextMiddleware",
)
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
        return get_resolver(LEAN_URLCONF).resolve(path)
    except Resolver404:
        return None


class LeanRequests(BaseHandler):
    """Django's handler with LEAN_MIDDLEWARE instead of settings.MIDDLEWARE, resolving the
    path in LEAN_URLCONF (mixed into the WSGI handler, and into the test client's handler in
    tests/support/lean.py)."""

    def load_middleware(self, is_async: bool = False) -> None:
        if is_async:
            raise ImproperlyConfigured("The lean request path is synchronous (WSGI).")
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        handler = convert_exception_to_response(self._get_response)
        for path in reversed(LEAN_MIDDLEWARE):
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
        self.lean = LeanWSGIHandler()

    def __call__(self, environ, start_response):
        match = lean_match(environ)
        if match is None:
            return self.full(environ, start_response)
        environ[MATCH_KEY] = match
        return self.lean(environ, start_response)
