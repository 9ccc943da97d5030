"""Every URL of the portal, listed from the resolver: who may open it.

New pages are covered as soon as they are routed; a page meant to be public must be named here.
"""

from __future__ import annotations

import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

pytestmark = pytest.mark.django_db

# Reachable without logging in: the login form, and the endpoints providers call (which answer
# 400 to a bad token instead).
PUBLIC = {"login"}
PROVIDER_HOOKS = "hooks:"
# The HTTP API for other systems (tests/api): an API key or nothing, never the portal's session
# or its log-in page; every refusal a 401/403 problem detail. Its docs pages are portal pages.
NOT_API = {"api-docs", "api-redoc", "api-key-create", "api-key-revoke"}


def is_api(name: str) -> bool:
    return name.startswith("api-") and name not in NOT_API


def refused_by_the_api(response, name: str) -> None:
    assert response.status_code in (401, 403, 405), f"{name} answered {response.status_code}"


SAMPLE = {"int": 1, "str": "x", "slug": "x", "path": "x", "uuid": uuid.uuid4()}


def portal_urls(resolver=None, namespace=""):
    """(name, url) for every named pattern outside the Django admin."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from portal_urls(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            converters = entry.pattern.converters
            kwargs = {
                name: SAMPLE.get(type(conv).__name__.removesuffix("Converter").lower(), 1)
                for name, conv in converters.items()
            }
            name = f"{namespace}{entry.name}"
            yield name, reverse(name, kwargs=kwargs)


URLS = sorted(set(portal_urls()))


@pytest.mark.parametrize(("name", "url"), URLS, ids=[name for name, _ in URLS])
def test_anonymous_visitors_get_nothing_but_the_login_page(client, name, url):
    for method in (client.get, client.post):
        response = method(url)
        if name in PUBLIC:
            assert response.status_code in (200, 302, 405)
        elif name.startswith(PROVIDER_HOOKS):
            assert response.status_code == 400, f"{name} accepted an unknown token"
        elif is_api(name):
            refused_by_the_api(response, name)
        else:
            assert response.status_code == 302, f"{name} answered {response.status_code}"
            assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(("name", "url"), URLS, ids=[name for name, _ in URLS])
def test_a_user_without_a_role_is_refused_everything_but_the_dashboard(client, outsider, name, url):
    client.force_login(outsider)
    if name in PUBLIC or name.startswith(PROVIDER_HOOKS):
        return
    open_to_everyone = {
        "dashboard",
        "logout",
        "password_change",
        "password_change_done",
        "preferences",  # one's own language, time zone and digits
        "set_language",
    }
    # Each user's own profile and two-factor log-in.
    open_to_everyone |= {name for name, _ in URLS if name.startswith("users:")}
    open_to_everyone |= {"api-docs", "api-redoc", "api-schema"}  # no data in them
    response = client.get(url)
    if response.status_code == 405:  # a POST-only action: the refusal must come on POST
        response = client.post(url)
    if name in open_to_everyone:
        assert response.status_code in (200, 302)
    elif is_api(name):
        refused_by_the_api(response, name)
    else:
        assert response.status_code == 403, f"{name} answered {response.status_code}"


@pytest.mark.parametrize(("name", "url"), URLS, ids=[name for name, _ in URLS])
def test_every_post_without_a_csrf_token_is_refused(manager, name, url):
    from django.test import Client

    if name.startswith(PROVIDER_HOOKS):
        return  # providers cannot hold our CSRF token; their token in the URL stands instead
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)

    response = client.post(url, {"name": "x"})

    if is_api(name):  # keys, not cookies: a session (and so a forged form) is not accepted
        return refused_by_the_api(response, name)
    assert response.status_code == 403, f"{name} accepted a POST without a CSRF token"


MANAGER_ONLY = {
    "providers:create",
    "providers:edit",
    "providers:rotate_token",
    "providers:finish_rotation",
    "senders:create",
    "senders:edit",
    "senders:retire",
    "senders:set_default",
    "senders:sync",
    "credits:refresh",
    "credits:transfer_create",
    "credits:transfer_execute",
    "audit:index",
    "audit:export",
}


def test_every_manager_action_is_routed():
    assert {name for name, _ in URLS} >= MANAGER_ONLY


@pytest.mark.parametrize("name", sorted(MANAGER_ONLY))
def test_an_operator_is_refused_every_manager_action(operator_client, name):
    url = dict(URLS)[name]
    for method in (operator_client.get, operator_client.post):
        response = method(url)
        assert response.status_code in (403, 405), f"{name} answered {response.status_code}"
        if response.status_code == 403:
            return
    pytest.fail(f"{name} refused neither GET nor POST with 403")


def test_uploaded_files_are_never_served_and_rejected_rows_come_back_escaped(
    operator_client, django_capture_on_commit_callbacks, settings
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from smsportal.contacts.models import ImportJob

    upload = SimpleUploadedFile("evil.csv", b"phone,name\n=cmd|' /C calc'!A0,x\n")
    operator_client.post("/contacts/imports/", {"file": upload, "region": "KW", "mode": "update"})
    job = ImportJob.objects.get()
    stored = job.file.name  # kept while the preview waits for staff to start the import
    assert stored
    assert operator_client.get(f"/media/{stored}").status_code == 404
    assert operator_client.get(f"/{stored}").status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        operator_client.post(f"/contacts/imports/{job.pk}/start/", {"encoding": "utf-8"})
    rejected = operator_client.get(f"/contacts/imports/{job.pk}/rejected.csv")
    body = b"".join(rejected.streaming_content).decode("utf-8-sig")
    assert "'=cmd|" in body and "\n2,invalid" in body.replace("\r", "")
