"""A list's `cursor` that is not one the API gave out is a 400 naming the field, on every list
(DRF answered 404, as if the list were gone, and a position that is not an id reached the
database: a 500); a cursor whose row was deleted meanwhile still pages on."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import pytest

from smsportal.api.urls import urlpatterns
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

LISTS = [
    "/api/v1/messages",
    "/api/v1/accounts",
    "/api/v1/sender-ids",
    "/api/v1/inbox",
    "/api/v1/contacts",
    "/api/v1/lists",
    "/api/v1/opt-outs",
]


def cursor(query: str) -> str:
    return base64.b64encode(query.encode()).decode()


BAD = [
    "not-a-cursor!",  # not base64
    "%%%",
    cursor("o=x&r=0&p=5"),  # offset not a number
    cursor("o=0&r=yes&p=5"),
    cursor("o=0&r=0&p=abc"),  # a position that is no id
    cursor("o=0&r=0&p=1; DROP TABLE x"),
    cursor("o=0&r=0&p=-5"),
    cursor("o=0&r=0&p=99999999999999999999999"),  # past any id
    cursor("o=0&r=0&p=²"),  # a digit to str.isdigit, not to int()
]


def test_every_paginated_list_is_checked_here():
    paginated = {
        f"/api/{p.pattern}"
        for p in urlpatterns
        if getattr(getattr(p.callback, "view_class", None), "pagination_class", None)
    }
    assert paginated == {
        *LISTS,
        "/api/v1/messages/<int:pk>/deliveries",
        "/api/v1/lists/<int:pk>/members",
    }


def test_the_lists_under_an_object_refuse_a_bad_cursor_too(manager, key_for, account):
    call = key_for(manager)
    message = call(
        "POST", "/api/v1/messages", {"account": account.pk, "to": ["+96597119440"], "text": "Hi"}
    ).json()["message"]
    contact_list = call("POST", "/api/v1/lists", {"name": "Staff"}).json()
    for path in (
        f"/api/v1/messages/{message['id']}/deliveries",
        f"/api/v1/lists/{contact_list['id']}/members",
    ):
        answer = call("GET", path, data={"cursor": cursor("o=0&r=0&p=abc")})
        assert answer.status_code == 400, (path, answer.content)
        assert answer.json()["errors"][0]["field"] == "cursor"


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("value", BAD)
def test_a_cursor_that_was_not_given_out_is_a_400_naming_it(superuser, key_for, path, value):
    answer = key_for(superuser)("GET", path, data={"cursor": value})
    assert answer.status_code == 400, answer.content
    assert answer["Content-Type"] == "application/problem+json"
    data = answer.json()
    assert data["code"] == "invalid_request"
    assert data["errors"][0]["field"] == "cursor"
    assert data["errors"][0]["code"] == "invalid_cursor"


def test_a_cursor_whose_row_was_deleted_still_pages_on(superuser, key_for):
    call = key_for(superuser)
    contacts = [ContactFactory() for _ in range(5)]
    first = call("GET", "/api/v1/contacts", data={"page_size": 2}).json()
    following = parse_qs(urlsplit(first["next"]).query)["cursor"][0]
    shown = [row["id"] for row in first["results"]]
    contacts_by_id = {c.pk: c for c in contacts}
    contacts_by_id[shown[-1]].delete()  # the row the cursor points at
    second = call("GET", "/api/v1/contacts", data={"page_size": 2, "cursor": following})
    assert second.status_code == 200, second.content
    rest = [row["id"] for row in second.json()["results"]]
    assert rest and not set(rest) & set(shown)
