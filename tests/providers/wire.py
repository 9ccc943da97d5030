"""The HTTP choke point, replaced: records every request and answers with canned bodies."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
import requests


@dataclass
class Request:
    method: str
    url: str
    params: dict


@dataclass
class Wire:
    answers: list = field(default_factory=list)  # bodies (str) or exceptions, in order
    requests: list[Request] = field(default_factory=list)
    status: int = 200

    def answer(self, *bodies) -> Wire:
        self.answers.extend(bodies)
        return self

    def _respond(self, method: str, url: str, params: dict) -> requests.Response:
        self.requests.append(Request(method, url, dict(params)))
        body = self.answers.pop(0) if self.answers else ""
        if isinstance(body, Exception):
            raise body
        response = requests.Response()
        response.status_code = self.status
        response._content = body.encode("utf-8")
        response.encoding = "utf-8"
        return response

    def post(self, url, data=None, timeout=None):
        return self._respond("POST", url, data or {})

    def get(self, url, params=None, timeout=None):
        return self._respond("GET", url, params or {})

    @property
    def last(self) -> Request:
        return self.requests[-1]

    @property
    def last_url(self) -> str:
        """The last request as it goes on the wire: the URL with its query string encoded by
        requests (GET), or the URL and its encoded body (POST)."""
        request = self.last
        if request.method == "GET":
            return requests.Request("GET", request.url, params=request.params).prepare().url
        body = requests.Request("POST", request.url, data=request.params).prepare().body
        return f"{request.url}?{body}"


@pytest.fixture
def wire(monkeypatch) -> Wire:
    fake = Wire()
    monkeypatch.setattr("smsportal.providers.backends.http.session_for", lambda account: fake)
    return fake
