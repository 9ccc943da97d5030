"""Every endpoint × role (Operator, Manager, superuser, and a user in no role) × scope: the
scope it needs lets it through, any other scope alone is 403 missing_scope, and a user without
the role's permission is 403 role_forbids — never 404 or 500.

The endpoints are read from the URL conf (every method every API view serves), not listed by
hand: a new endpoint, or a new method on one, without a row in ROWS fails here, and so does a
row whose scope is not the one its view asks for. The OpenAPI schema must list the same set.
"""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import resolve
from rest_framework import exceptions

from smsportal.api import urls
from smsportal.api.models import Scope
from smsportal.api.permissions import ScopeAndRole, serves
from smsportal.contacts.models import Contact, ContactList, ImportJob, OptOut
from smsportal.messaging.models import InboundMessage, Message
from tests.factories import UserFactory

from .conftest import caller_for

pytestmark = pytest.mark.django_db

DOCS = {"schema/", "docs/", "redoc/"}  # not the API: staff's pages and the schema


def served() -> list[tuple[str, str]]:
    """(route, METHOD) for every method every API view answers, from the URL conf."""
    found = []
    for pattern in urls.urlpatterns:
        view_class = getattr(pattern.callback, "view_class", None)
        route = str(pattern.pattern)
        if view_class is None or route in DOCS:
            continue
        for handler in view_class.http_method_names:
            if handler not in ("head", "options") and serves(view_class, handler):
                found.append((route, handler.upper()))
    return sorted(found)


SERVED = served()

# (route, METHOD) -> (path with {world} names, body, scope). A body of type dict is JSON; a
# callable makes a multipart form.
ROWS = {
    ("v1/messages", "POST"): (
        "/api/v1/messages",
        lambda w: {"account": w["account"], "to": ["+96597119460"], "text": "x"},
        "send",
    ),
    ("v1/messages", "GET"): ("/api/v1/messages", None, "read"),
    ("v1/messages/<int:pk>", "GET"): ("/api/v1/messages/{message}", None, "read"),
    ("v1/messages/<int:pk>/deliveries", "GET"): (
        "/api/v1/messages/{message}/deliveries",
        None,
        "read",
    ),
    ("v1/messages/<int:pk>/cancel", "POST"): ("/api/v1/messages/{message}/cancel", None, "send"),
    ("v1/accounts", "GET"): ("/api/v1/accounts", None, "read"),
    ("v1/sender-ids", "GET"): ("/api/v1/sender-ids", None, "read"),
    ("v1/inbox", "GET"): ("/api/v1/inbox", None, "read"),
    ("v1/preview", "POST"): (
        "/api/v1/preview",
        lambda w: {"account": w["account"], "text": "Hello"},
        "send",
    ),
    ("v1/contacts", "GET"): ("/api/v1/contacts", None, "contacts"),
    ("v1/contacts", "POST"): (
        "/api/v1/contacts",
        lambda w: {"phone": "+96597119470", "name": "New"},
        "contacts",
    ),
    ("v1/contacts/<int:pk>", "GET"): ("/api/v1/contacts/{contact}", None, "contacts"),
    ("v1/contacts/<int:pk>", "PATCH"): (
        "/api/v1/contacts/{contact}",
        lambda w: {"name": "Renamed"},
        "contacts",
    ),
    ("v1/contacts/<int:pk>", "DELETE"): ("/api/v1/contacts/{contact}", None, "contacts"),
    ("v1/lists", "GET"): ("/api/v1/lists", None, "contacts"),
    ("v1/lists", "POST"): ("/api/v1/lists", lambda w: {"name": "New list"}, "contacts"),
    ("v1/lists/<int:pk>", "GET"): ("/api/v1/lists/{list}", None, "contacts"),
    ("v1/lists/<int:pk>", "PATCH"): (
        "/api/v1/lists/{list}",
        lambda w: {"description": "d"},
        "contacts",
    ),
    ("v1/lists/<int:pk>", "DELETE"): ("/api/v1/lists/{list}", None, "contacts"),
    ("v1/lists/<int:pk>/members", "GET"): ("/api/v1/lists/{list}/members", None, "contacts"),
    ("v1/lists/<int:pk>/members", "POST"): (
        "/api/v1/lists/{list}/members",
        lambda w: {"contacts": [w["contact"]]},
        "contacts",
    ),
    ("v1/lists/<int:pk>/members/<int:contact_id>", "DELETE"): (
        "/api/v1/lists/{list}/members/{contact}",
        None,
        "contacts",
    ),
    ("v1/opt-outs", "GET"): ("/api/v1/opt-outs", None, "contacts"),
    ("v1/opt-outs", "POST"): ("/api/v1/opt-outs", lambda w: {"phone": "+96597119480"}, "contacts"),
    ("v1/opt-outs/<int:pk>", "GET"): ("/api/v1/opt-outs/{optout}", None, "contacts"),
    ("v1/opt-outs/<int:pk>", "DELETE"): ("/api/v1/opt-outs/{optout}", None, "contacts"),
    ("v1/imports", "POST"): (
        "/api/v1/imports",
        lambda w: {"file": SimpleUploadedFile("p.csv", b"phone\n+96597119490\n")},
        "contacts",
    ),
    ("v1/imports/<int:pk>", "GET"): ("/api/v1/imports/{import}", None, "contacts"),
}


@pytest.fixture
def world(operator, account, key_for):
    """One of everything the paths name, as ids."""
    sent = key_for(operator, name="Seed")(
        "POST",
        "/api/v1/messages",
        {
            "account": account.pk,
            "to": ["+96597119450"],
            "text": "Hi",
            "schedule_at": "2099-01-01T00:00:00Z",  # not sent yet: it can be cancelled
        },
    )
    assert sent.status_code == 202, sent.content
    contact = Contact.objects.create(phone="+96597119451", name="Ann")
    contact_list = ContactList.objects.create(name="Staff")
    contact_list.add([contact.pk])
    InboundMessage.objects.create(account=account, sender="+96597119451", text="Hi")
    job = ImportJob.objects.create(
        status=ImportJob.Status.DONE, original_name="p.csv", region="KW", created_by=operator
    )
    optout = OptOut.objects.create(phone="+96597119452", reason=OptOut.Reason.MANUAL)
    return {
        "account": account.pk,
        "message": Message.objects.get().pk,
        "contact": contact.pk,
        "list": contact_list.pk,
        "optout": optout.pk,
        "import": job.pk,
    }


@pytest.fixture(params=["operator", "manager", "superuser"])
def role_user(request, db):
    if request.param == "superuser":
        return UserFactory(username="root", is_superuser=True, is_staff=True)
    return request.getfixturevalue(request.param)


def row(endpoint: tuple[str, str]):
    assert endpoint in ROWS, f"{endpoint} is served but has no row in ROWS: add one"
    return ROWS[endpoint]


def request_with(user, scopes, endpoint, world):
    route, method = endpoint
    path, body, _scope = row(endpoint)
    path = path.format(**world)
    assert resolve(path).route == "api/" + route, f"{path} is not {route}"
    call = caller_for(user, scopes, name=f"k{len(scopes)}-{'-'.join(scopes)}")
    data = body(world) if body else None
    if method == "POST" and route == "v1/imports":  # multipart
        return call.client.post(path, data=data, headers={"Authorization": f"Bearer {call.secret}"})
    return call(method, path, data)


@pytest.mark.parametrize("endpoint", SERVED, ids="{0[1]} {0[0]}".format)
def test_the_needed_scope_lets_every_role_through(role_user, world, endpoint):
    answer = request_with(role_user, [row(endpoint)[2]], endpoint, world)
    assert answer.status_code in (200, 201, 202, 204), (endpoint, answer.content)


@pytest.mark.parametrize("endpoint", SERVED, ids="{0[1]} {0[0]}".format)
def test_every_other_scope_is_403_missing_scope(role_user, world, endpoint):
    others = [s.value for s in Scope if s.value != row(endpoint)[2]]
    answer = request_with(role_user, others, endpoint, world)
    assert answer.status_code == 403, (endpoint, answer.content)
    assert answer.json()["code"] == "missing_scope"


@pytest.mark.parametrize("endpoint", SERVED, ids="{0[1]} {0[0]}".format)
def test_a_user_in_no_role_is_403_role_forbids(outsider, world, endpoint):
    answer = request_with(outsider, [s.value for s in Scope], endpoint, world)
    assert answer.status_code == 403, (endpoint, answer.content)
    assert answer.json()["code"] == "role_forbids"


@pytest.mark.parametrize("endpoint", SERVED, ids="{0[1]} {0[0]}".format)
def test_each_row_names_the_scope_its_view_asks_for(endpoint):
    route, method = endpoint
    view_class = next(p.callback.view_class for p in urls.urlpatterns if str(p.pattern) == route)
    assert method in view_class.access, f"{view_class.__name__} has no access for {method}"
    assert view_class.access[method][0] == row(endpoint)[2]


def test_every_row_is_served_and_the_schema_documents_each_one():
    from drf_spectacular.generators import SchemaGenerator

    assert set(ROWS) == set(SERVED), "a row for an endpoint the URL conf does not serve"
    schema = SchemaGenerator().get_schema(request=None, public=True)
    documented = {
        (resolve(re.sub(r"\{[^}]+\}", "1", path)).route.removeprefix("api/"), method.upper())
        for path, operations in schema["paths"].items()
        for method in operations
    }
    assert documented == set(SERVED)


@pytest.mark.parametrize(
    ("method", "refused"), [("GET", False), ("POST", True), ("PUT", False), ("OPTIONS", False)]
)
def test_a_handler_without_an_access_row_is_refused(operator, rf, method, refused):
    """GET has its row; POST is served but has none (refused, never open by omission); PUT
    and OPTIONS are not served here (the view answers 405)."""

    class Forgot:
        http_method_names = ["get", "post", "options"]
        access = {"GET": ("read", [])}

        def get(self):
            pass

        def post(self):
            pass

    request = rf.generic(method, "/api/v1/x")
    request.auth, request.user = caller_for(operator).key, operator
    if not refused:
        assert ScopeAndRole().has_permission(request, Forgot())
        return
    with pytest.raises(exceptions.PermissionDenied) as raised:
        ScopeAndRole().has_permission(request, Forgot())
    assert raised.value.get_codes() == "role_forbids"


def test_an_operator_cannot_lift_a_managers_opt_out_even_with_the_admin_scope(
    operator, manager, world
):
    optout = OptOut.objects.create(phone="+96597119453", created_by=manager)
    answer = caller_for(operator, ["contacts", "admin"])("DELETE", f"/api/v1/opt-outs/{optout.pk}")
    assert answer.status_code == 403 and answer.json()["code"] == "role_forbids"
    answer = caller_for(manager, ["contacts"], name="m")("DELETE", f"/api/v1/opt-outs/{optout.pk}")
    assert answer.status_code == 403 and answer.json()["code"] == "missing_scope"
    answer = caller_for(manager, ["contacts", "admin"], name="m2")(
        "DELETE", f"/api/v1/opt-outs/{optout.pk}"
    )
    assert answer.status_code == 204
