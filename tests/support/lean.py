"""The test client as gunicorn routes requests (smsportal/wsgi.py): a provider's callback takes
the lean request path (smsportal/core/lean_requests.py), every other request the full one."""

from __future__ import annotations

from django.test import Client
from django.test.client import ClientHandler

from smsportal.core.lean_requests import LEAN_MIDDLEWARE, MATCH_KEY, LeanRequests, lean_match


class LeanClientHandler(LeanRequests, ClientHandler):
    pass


class RoutedClientHandler:
    def __init__(self, enforce_csrf_checks: bool) -> None:
        self.full = ClientHandler(enforce_csrf_checks)
        self.lean = {
            name: LeanClientHandler(chain, enforce_csrf_checks)
            for name, chain in LEAN_MIDDLEWARE.items()
        }
        self.last_route: str | None = None  # "lean" or "full": which handler answered last

    def __call__(self, environ):
        match = lean_match(environ)
        if match is None:
            self.last_route = "full"
            return self.full(environ)
        environ[MATCH_KEY] = match
        self.last_route = "lean"
        return self.lean[match.view_name](environ)


class RoutedClient(Client):
    def __init__(self, enforce_csrf_checks: bool = False, **kwargs) -> None:
        super().__init__(enforce_csrf_checks, **kwargs)
        self.handler = RoutedClientHandler(enforce_csrf_checks)
