"""A refused request is one log line naming who was refused (django.request, LOGGING's
`one_line_refusals`), never a traceback; a server error keeps its traceback."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from smsportal.core.logfilters import who
from smsportal.messaging.views import messages as message_views
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _refusals(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "django.request"]


def test_an_operator_refused_a_managers_page_is_one_line_without_a_traceback(
    operator_client, caplog
):
    path = reverse("departments:list")

    assert operator_client.get(path).status_code == 403

    (record,) = _refusals(caplog)
    assert record.levelno == logging.WARNING
    assert record.getMessage() == f"Forbidden (Permission denied): {path} (403, user operator)"
    assert record.exc_info is None
    assert "Traceback" not in caplog.text
    assert "\n" not in logging.Formatter().format(record)


def test_a_refusal_names_a_user_with_no_role_and_a_request_with_no_user(client, caplog):
    client.force_login(UserFactory(username="nobody"))

    client.get(reverse("departments:list"))

    (record,) = _refusals(caplog)
    assert record.getMessage().endswith("(403, user nobody)")
    assert who(None) == "anonymous"  # a request refused before the user was read


def test_a_server_error_keeps_its_traceback(client, caplog, monkeypatch, operator):
    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(message_views, "message_page", broken)
    client.raise_request_exception = False
    client.force_login(operator)

    assert client.get(reverse("messaging:message_list")).status_code == 500

    (record,) = _refusals(caplog)
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None


def test_a_user_that_cannot_be_read_is_unknown_and_the_line_still_written():
    class Broken:
        @property
        def user(self):
            raise RuntimeError("the database went away")

    assert who(Broken()) == "unknown"
