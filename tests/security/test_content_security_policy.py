"""The Content-Security-Policy, and templates that live within it: no inline script anywhere.

An inline script, an on*= handler or hx-on would either be blocked by the browser (a broken
page) or force 'unsafe-inline' into the policy (no protection): both are caught here, in every
template folder Django searches, the admin overrides included.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.template.utils import get_app_template_dirs

pytestmark = pytest.mark.django_db

INLINE = [
    # A <script> without src= runs inline (a JSON data block is data, not script).
    (
        "inline <script>",
        re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=[\"']application/json)[^>]*>", re.I),
    ),
    ("inline event handler (on*=)", re.compile(r"<[^>]*\son[a-z]+\s*=", re.I | re.S)),
    ("hx-on attribute", re.compile(r"\bhx-on", re.I)),
    ("javascript: URL", re.compile(r"javascript:", re.I)),
]


def template_files():
    folders = [Path(d) for engine in settings.TEMPLATES for d in engine.get("DIRS", [])]
    folders += [Path(d) for d in get_app_template_dirs("templates")]
    project = Path(settings.BASE_DIR)
    for folder in folders:
        if project not in folder.resolve().parents or Path(sys.prefix) in folder.parents:
            continue  # Django's own and third-party templates are not ours to change
        for path in sorted(folder.rglob("*.html")):
            yield path.relative_to(folder).as_posix(), path


TEMPLATES = sorted(template_files())


def inline_code(text: str) -> list[str]:
    return [label for label, pattern in INLINE if pattern.search(text)]


def test_the_scan_finds_every_kind_of_inline_code():
    assert inline_code("<script>alert(1)</script>") == ["inline <script>"]
    assert inline_code('<a href="#" onclick="x()">') == ["inline event handler (on*=)"]
    assert inline_code('<form\n  method="post" onsubmit="return confirm(1)">') != []
    assert inline_code('<div hx-on::after-request="x()">') == ["hx-on attribute"]
    assert inline_code('<a href="javascript:x()">') == ["javascript: URL"]
    assert inline_code('<script src="/static/js/portal.js"></script>') == []
    assert inline_code('<script id="d" type="application/json">{}</script>') == []
    assert inline_code('<input data-select-all=".pick" data-confirm="Sure?">') == []


def test_templates_are_found():
    names = {name for name, _ in TEMPLATES}
    assert {
        "base.html",
        "reports/dashboard.html",
        "admin/contacts/contact/change_list.html",
    } <= names


@pytest.mark.parametrize(("name", "path"), TEMPLATES, ids=[name for name, _ in TEMPLATES])
def test_no_template_holds_inline_script(name, path):
    found = inline_code(path.read_text(encoding="utf-8"))
    assert not found, f"{name} holds {', '.join(found)}: move it to static/js"


def test_every_page_carries_a_policy_that_allows_no_inline_script(manager_client):
    response = manager_client.get("/")

    policy = response["Content-Security-Policy"]
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    assert directives["script-src"] == ["'self'"]
    assert directives["default-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in policy


def test_the_login_page_and_the_admin_carry_the_policy_too(client, admin_client):
    assert "script-src 'self'" in client.get("/auth/login/")["Content-Security-Policy"]
    assert "script-src 'self'" in admin_client.get("/admin/")["Content-Security-Policy"]


def test_htmx_is_told_not_to_inject_styles_or_evaluate_code(manager_client):
    page = manager_client.get("/").content.decode()

    assert '"includeIndicatorStyles": false' in page
    assert '"allowEval": false' in page


def test_the_other_security_headers_are_sent(manager_client):
    response = manager_client.get("/")

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
