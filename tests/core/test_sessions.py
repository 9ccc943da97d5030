"""Sessions (core/sessions.py): Django's database sessions, each request's read made with one
statement written once; a session that expired or was ended is not accepted."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db


def test_a_request_reads_its_session_with_the_one_statement(operator_client):
    with CaptureQueriesContext(connection) as seen:
        assert operator_client.get(reverse("dashboard")).status_code == 200

    first = seen.captured_queries[0]["sql"]
    assert first.startswith('SELECT "session_data" FROM "django_session" WHERE "session_key" = ')
    assert sum("django_session" in query["sql"] for query in seen.captured_queries) == 1


def test_an_expired_session_is_not_accepted(operator_client):
    key = operator_client.cookies[settings.SESSION_COOKIE_NAME].value
    Session.objects.filter(pk=key).update(expire_date=timezone.now() - dt.timedelta(seconds=1))

    response = operator_client.get(reverse("dashboard"))

    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_session_ended_by_logging_out_is_not_accepted_again(operator_client):
    key = operator_client.cookies[settings.SESSION_COOKIE_NAME].value
    operator_client.post(reverse("logout"))
    operator_client.cookies[settings.SESSION_COOKIE_NAME] = key  # the old cookie, replayed

    response = operator_client.get(reverse("dashboard"))

    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_an_unknown_session_key_is_a_visitor_not_an_error(client):
    client.cookies[settings.SESSION_COOKIE_NAME] = "x" * 32

    response = client.get(reverse("dashboard"))

    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_session_keeps_what_is_written_in_it(operator_client):
    operator_client.post(reverse("set_language"), {"language": "ar", "next": "/"})
    page = operator_client.get(reverse("dashboard"))
    assert page.status_code == 200
    assert "_auth_user_id" in operator_client.session
