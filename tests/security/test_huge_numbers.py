"""Numbers too big for any database column, in any URL or query parameter, answer 400 or 404,
never 500. Every routed pattern is crawled (the admin's too) with a huge value in each integer
place, and every page with huge values in the query parameters the portal reads."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.factories import ProviderAccountFactory

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999999"
QUERY_PARAMETERS = [
    # portal pages: pagination, filters, ids
    "page",
    "account",
    "list",
    "message",
    "days",
    "status",
    "before",
    "after",
    "pk",
    "id",
    "q",
    "since",
    "until",
    # the admin's changelist: page, ordering, filters by id
    "p",
    "o",
    "account__id__exact",
    "message__id__exact",
    "id__exact",
    "retry_of",
    "_changelist_filters",
]


def every_url(resolver=None, prefix=""):
    """(name, url) for every named pattern, integer and path parts set to HUGE."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            yield from every_url(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            name = f"{prefix}{entry.name}"
            kwargs = {}
            for key, converter in entry.pattern.converters.items():
                kind = type(converter).__name__
                if kind in ("IntConverter", "PathConverter", "StringConverter"):
                    kwargs[key] = HUGE
                elif kind == "WebhookTokenConverter":
                    kwargs[key] = "x" * 10
                else:
                    kwargs[key] = converter.to_url(converter.to_python("1"))
            try:
                yield name, reverse(name, kwargs=kwargs)
            except Exception:  # noqa: S112  (a pattern a huge value cannot fill: nothing to crawl)
                continue


URLS = sorted(set(every_url()))


def test_the_crawl_covers_the_portal_and_the_admin():
    names = {name for name, _ in URLS}
    assert {"messaging:message_detail", "contacts:list_detail", "credits:transfer_detail"} <= names
    assert any(name.startswith("admin:") for name in names)
    assert any(HUGE in url for _, url in URLS)


@pytest.fixture
def superuser_client(admin_user):
    ProviderAccountFactory()  # filters that list accounts have something to list
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    return client


def test_a_huge_number_in_the_path_is_never_a_server_error(superuser_client):
    # One test walks every URL (rather than one test each): the crawl is hundreds of requests.
    errors = []
    for name, url in URLS:
        for method in (superuser_client.get, superuser_client.post):
            response = method(url)
            if response.status_code >= 500:
                errors.append(f"{method.__name__.upper()} {url} ({name}): {response.status_code}")
    assert not errors, "\n".join(errors)


def test_huge_numbers_in_the_query_are_never_a_server_error(superuser_client):
    everything = "&".join(f"{key}={HUGE}" for key in QUERY_PARAMETERS)
    errors = []
    for name, url in URLS:
        if HUGE in url:
            continue
        for hx in ("false", "true"):  # the page and its htmx fragment
            response = superuser_client.get(f"{url}?{everything}", HTTP_HX_REQUEST=hx)
            if response.status_code >= 500:
                errors.append(f"GET {url} htmx={hx} ({name}): {response.status_code}")
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("key", ["page", "account", "list", "p", "message__id__exact"])
def test_the_answer_names_the_parameter(superuser_client, key):
    response = superuser_client.get(f"/messages/?{key}={HUGE}")

    assert response.status_code == 400
    assert response.content.decode() == f"The number in “{key}” is too large.\n"


def test_ordinary_numbers_and_free_text_pass(superuser_client):
    assert superuser_client.get(f"/messages/?page={2**63 - 1}").status_code == 200
    assert superuser_client.get(f"/messages/inbox/?q={HUGE}").status_code == 200
    assert superuser_client.get(f"/contacts/?q={HUGE}").status_code == 200
