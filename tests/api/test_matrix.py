"""Every endpoint × role (Operator, Manager, superuser, and a user in no role) × scope: the
scope it needs lets it through, any other scope alone is 403 missing_scope, and a user without
the role's permission is 403 role_forbids — never 404 or 500."""

from __future__ import annotations

import pytest

from smsportal.api.models import Scope
from smsportal.contacts.models import Contact, ContactList, OptOut
from smsportal.messaging.models import InboundMessage, Message
from tests.factories import UserFactory

from .conftest import caller_for

pytestmark = pytest.mark.django_db


def endpoints(w):
    """(method, path, body, scope) for every endpoint, given the world `w`."""
    m, c, lst, o = w["message"], w["contact"], w["list"], w["optout"]
    acc = w["account"]
    return [
        ("POST", "/api/v1/messages", {"account": acc.pk, "to": ["+96597119460"], "text": "x"},
         "send"),
        ("GET", "/api/v1/messages", None, "read"),
        ("GET", f"/api/v1/messages/{m.pk}", None, "read"),
        ("GET", f"/api/v1/messages/{m.pk}/deliveries", None, "read"),
        ("POST", f"/api/v1/messages/{m.pk}/cancel", None, "send"),
        ("GET", "/api/v1/accounts", None, "read"),
        ("GET", "/api/v1/sender-ids", None, "read"),
        ("GET", "/api/v1/inbox", None, "read"),
        ("POST", "/api/v1/preview", {"account": acc.pk, "text": "Hello"}, "send"),
        ("GET", "/api/v1/contacts", None, "contacts"),
        ("POST", "/api/v1/contacts", {"phone": "+96597119470", "name": "New"}, "contacts"),
        ("GET", f"/api/v1/contacts/{c.pk}", None, "contacts"),
        ("PATCH", f"/api/v1/contacts/{c.pk}", {"name": "Renamed"}, "contacts"),
        ("DELETE", f"/api/v1/contacts/{c.pk}", None, "contacts"),
        ("GET", "/api/v1/lists", None, "contacts"),
        ("POST", "/api/v1/lists", {"name": "New list"}, "contacts"),
        ("GET", f"/api/v1/lists/{lst.pk}", None, "contacts"),
        ("PATCH", f"/api/v1/lists/{lst.pk}", {"description": "d"}, "contacts"),
        ("DELETE", f"/api/v1/lists/{lst.pk}", None, "contacts"),
        ("GET", f"/api/v1/lists/{lst.pk}/members", None, "contacts"),
        ("POST", f"/api/v1/lists/{lst.pk}/members", {"contacts": [c.pk]}, "contacts"),
        ("DELETE", f"/api/v1/lists/{lst.pk}/members/{c.pk}", None, "contacts"),
        ("GET", "/api/v1/opt-outs", None, "contacts"),
        ("POST", "/api/v1/opt-outs", {"phone": "+96597119480"}, "contacts"),
        ("GET", f"/api/v1/opt-outs/{o.pk}", None, "contacts"),
        ("DELETE", f"/api/v1/opt-outs/{o.pk}", None, "contacts"),
    ]  # fmt: skip


@pytest.fixture
def world(operator, account, key_for):
    sent = key_for(operator, name="Seed")(
        "POST", "/api/v1/messages",
        {"account": account.pk, "to": ["+96597119450"], "text": "Hi", "schedule_at":
         "2099-01-01T00:00:00Z"},
    )  # fmt: skip
    assert sent.status_code == 202, sent.content
    contact = Contact.objects.create(phone="+96597119451", name="Ann")
    contact_list = ContactList.objects.create(name="Staff")
    contact_list.add([contact.pk])
    InboundMessage.objects.create(account=account, sender="+96597119451", text="Hi")
    return {
        "account": account,
        "message": Message.objects.get(),
        "contact": contact,
        "list": contact_list,
        "optout": OptOut.objects.create(phone="+96597119452", reason=OptOut.Reason.MANUAL),
    }


INDEXES = range(26)


@pytest.fixture(params=["operator", "manager", "superuser"])
def role_user(request, db):
    if request.param == "superuser":
        return UserFactory(username="root", is_superuser=True, is_staff=True)
    return request.getfixturevalue(request.param)


def request_with(user, scopes, endpoint):
    method, path, body, _scope = endpoint
    return caller_for(user, scopes, name=f"k{len(scopes)}-{'-'.join(scopes)}")(method, path, body)


@pytest.mark.parametrize("index", INDEXES)
def test_the_needed_scope_lets_every_role_through(role_user, world, index):
    endpoint = endpoints(world)[index]
    answer = request_with(role_user, [endpoint[3]], endpoint)
    assert answer.status_code in (200, 201, 202, 204), (endpoint[:2], answer.content)


@pytest.mark.parametrize("index", INDEXES)
def test_every_other_scope_is_403_missing_scope(role_user, world, index):
    endpoint = endpoints(world)[index]
    others = [s.value for s in Scope if s.value != endpoint[3]]
    answer = request_with(role_user, others, endpoint)
    assert answer.status_code == 403, (endpoint[:2], answer.content)
    assert answer.json()["code"] == "missing_scope"


@pytest.mark.parametrize("index", INDEXES)
def test_a_user_in_no_role_is_403_role_forbids(outsider, world, index):
    endpoint = endpoints(world)[index]
    answer = request_with(outsider, [s.value for s in Scope], endpoint)
    assert answer.status_code == 403, (endpoint[:2], answer.content)
    assert answer.json()["code"] == "role_forbids"


def test_the_table_covers_every_api_route(world):
    from django.urls import get_resolver

    routes = {str(p.pattern) for p in get_resolver().url_patterns if str(p.pattern) == "api/"}
    assert routes == {"api/"}
    from smsportal.api import urls

    api_names = {p.name for p in urls.urlpatterns if p.name and p.name.startswith("api-")}
    api_names -= {"api-schema", "api-docs", "api-redoc"}
    assert len(api_names) == 16  # 16 routes, 26 method × path pairs in the table
    assert len(endpoints(world)) == len(INDEXES)


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
