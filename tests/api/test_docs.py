"""The schema and its two readers, from our own static files under the portal's CSP."""

from __future__ import annotations

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_the_schema_generates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))
    assert "/api/v1/messages" in (tmp_path / "s.yml").read_text()


def test_the_schema_is_served_to_a_key_and_to_staff(client, operator, key_for):
    assert key_for(operator, scopes=["read"])("GET", "/api/schema/").status_code == 200
    client.force_login(operator)
    assert client.get("/api/schema/").status_code == 200


def test_the_schema_is_not_served_to_strangers(client, db):
    assert client.get("/api/schema/").status_code in (401, 403)


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_the_docs_pages_load_nothing_from_elsewhere_and_no_inline_script(client, operator, path):
    client.force_login(operator)
    answer = client.get(path)
    page = answer.content.decode()
    assert answer.status_code == 200
    assert "https://" not in page.replace("https://smsportal.invalid", "")
    assert "<script>" not in page and "<style" not in page
    csp = answer["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-eval" not in csp
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]


def test_the_swagger_start_up_script_is_served_as_a_file(client, operator):
    client.force_login(operator)
    answer = client.get("/api/docs/?script=")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("application/javascript")


def test_the_docs_ask_for_a_log_in(client, db):
    assert client.get("/api/docs/").status_code == 302
