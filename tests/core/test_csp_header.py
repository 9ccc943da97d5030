"""The Content-Security-Policy header, built once (core/csp.py): the same header django-csp
builds, kept per settings, and a view's own policy (csp.decorators) still its own."""

from __future__ import annotations

from unittest import mock

import pytest
from csp.constants import NONCE
from csp.utils import build_policy
from django.test import override_settings
from django.urls import reverse

from smsportal.core.csp import policies

pytestmark = pytest.mark.django_db

REDOC = reverse("api-redoc")


def directives(header: str) -> set[str]:
    return set(header.split("; "))


def test_a_page_gets_the_policy_django_csp_builds_without_building_it_again(operator_client):
    policies()  # built once for the process (start-up or an earlier request)
    with mock.patch("csp.middleware.build_policy") as rebuilt:
        answer = operator_client.get("/messages/compose/")
    assert answer.status_code == 200
    assert answer["Content-Security-Policy"] == build_policy()
    assert "script-src 'self'" in answer["Content-Security-Policy"]
    assert "Content-Security-Policy-Report-Only" not in answer
    rebuilt.assert_not_called()


def test_a_view_with_its_own_policy_keeps_it(operator_client):
    answer = operator_client.get(REDOC)
    assert answer.status_code == 200
    assert answer["Content-Security-Policy"] != build_policy()  # the docs page's csp_update
    assert "worker-src blob:" in answer["Content-Security-Policy"]
    assert "script-src 'self'" in answer["Content-Security-Policy"]


def test_changed_settings_change_the_header(operator_client):
    policy = {"DIRECTIVES": {"default-src": ["'self'"], "img-src": ["'self'", "https://x.test"]}}
    with override_settings(
        CONTENT_SECURITY_POLICY=policy, CONTENT_SECURITY_POLICY_REPORT_ONLY=policy
    ):
        answer = operator_client.get("/messages/compose/")
        assert directives(answer["Content-Security-Policy"]) == {
            "default-src 'self'",
            "img-src 'self' https://x.test",
        }
        assert answer["Content-Security-Policy-Report-Only"] == answer["Content-Security-Policy"]
    answer = operator_client.get("/messages/compose/")
    assert "x.test" not in answer["Content-Security-Policy"]
    assert "Content-Security-Policy-Report-Only" not in answer


def test_excluded_prefixes_and_exempt_responses_get_no_header(operator_client):
    policy = {"EXCLUDE_URL_PREFIXES": ["/messages/"], "DIRECTIVES": {"default-src": ["'self'"]}}
    with override_settings(CONTENT_SECURITY_POLICY=policy):
        assert "Content-Security-Policy" not in operator_client.get("/messages/compose/")
        assert "Content-Security-Policy" in operator_client.get("/contacts/")


def middleware_answer(response, **request_attributes):
    from django.http import HttpResponse
    from django.test import RequestFactory

    from smsportal.core.csp import CSPMiddleware

    request = RequestFactory().get("/somewhere/")
    for name, value in request_attributes.items():
        setattr(request, name, value)
    return CSPMiddleware(lambda r: response or HttpResponse("ok")).process_response(
        request, response or HttpResponse("ok")
    )


def test_an_exempt_response_gets_no_header_and_a_nonce_is_written_into_it():
    from django.http import HttpResponse

    exempt = HttpResponse("ok")
    exempt._csp_exempt = True
    assert "Content-Security-Policy" not in middleware_answer(exempt)
    policy = {"DIRECTIVES": {"default-src": ["'self'"], "script-src": ["'self'", NONCE]}}
    with override_settings(CONTENT_SECURITY_POLICY=policy):
        with_nonce = middleware_answer(HttpResponse("ok"), _csp_nonce="abc123")
        assert directives(with_nonce["Content-Security-Policy"]) == {
            "default-src 'self'",
            "script-src 'self' 'nonce-abc123'",
        }
