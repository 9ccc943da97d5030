"""Providers' callbacks take a short request path (smsportal/core/lean_requests.py): the same
views, without the staff pages' middleware; every other request, and a hook URL that does not
resolve, takes the full one. The webhook tests (tests/messaging/test_webhooks.py,
tests/security/test_webhook_secrets_and_input.py) run through the same routing (the `client`
fixture), so every behaviour of the hooks is held on the lean path."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from smsportal.core.lean_requests import LEAN_MIDDLEWARE, LEAN_PREFIX, LEAN_URLCONF, MATCH_KEY
from smsportal.messaging.models import Delivery, DeliveryEvent, Message
from smsportal.sms.status import DeliveryStatus
from tests.factories import ProviderAccountFactory
from tests.support.lean import LeanClientHandler

ISMS_ADDRESS = "210.5.41.23"


@pytest.fixture
def isms(db):
    return ProviderAccountFactory(kind="isms")


@pytest.fixture
def delivery(isms):
    message = Message.objects.create(
        account=isms, body="x", encoding="GSM-7", segments=1, status=Message.Status.DONE
    )
    return Delivery.objects.create(
        message=message,
        account=isms,
        phone="+60123456789",
        status=DeliveryStatus.SUBMITTED,
        provider_message_id="M1",
    )


def dlr_url(account) -> str:
    return reverse("hooks:isms_dlr", args=[account.webhook_token])


def _flatten(patterns, prefix: str = "", namespace: str = ""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _flatten(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.lookup_str, namespace + (entry.name or "")


def test_the_lean_urls_are_exactly_the_sites_hook_urls():
    """Same routes, views and names: a hook added to the site is added here, and nothing of
    the staff pages can be reached without their middleware."""
    site = {
        p for p in _flatten(get_resolver().url_patterns) if ("/" + p[0]).startswith(LEAN_PREFIX)
    }
    lean = set(_flatten(get_resolver(LEAN_URLCONF).url_patterns))

    assert lean == site
    # Each has its middleware list; one left out would take the full handler.
    assert (
        {name for _, _, name in lean}
        == set(LEAN_MIDDLEWARE)
        == {
            "hooks:isms_dlr",
            "hooks:isms_incoming",
        }
    )


def test_a_report_takes_the_lean_path_without_session_user_or_page_headers(client, delivery):
    response = client.get(
        dlr_url(delivery.account), {"MsgId": "M1", "Status": "6"}, REMOTE_ADDR=ISMS_ADDRESS
    )

    assert response.status_code == 200
    assert response.content == b"OK\n"
    assert client.handler.last_route == "lean"
    request = response.wsgi_request
    assert not hasattr(request, "session")
    assert not hasattr(request, "user")
    assert "Content-Security-Policy" not in response
    assert "Set-Cookie" not in response
    # SecurityMiddleware is kept: its headers are there.
    assert response["X-Content-Type-Options"] == "nosniff"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert DeliveryEvent.objects.filter(delivery=delivery).count() == 1


def test_pages_and_hook_paths_that_do_not_resolve_take_the_full_path(client, isms):
    assert client.get("/").status_code == 302  # to log in
    assert client.handler.last_route == "full"

    response = client.get(f"/hooks/isms/{isms.webhook_token}/nowhere")
    assert response.status_code == 404
    assert client.handler.last_route == "full"
    assert hasattr(response.wsgi_request, "user")  # the site's 404, with its middleware


def test_a_number_beyond_64_bits_is_refused_on_the_lean_path_too(client, delivery):
    response = client.get(
        dlr_url(delivery.account), {"MsgId": "9" * 30, "Status": "6"}, REMOTE_ADDR=ISMS_ADDRESS
    )

    assert response.status_code == 400
    assert b"MsgId" in response.content
    assert client.handler.last_route == "lean"


def test_the_https_redirect_holds_on_the_lean_path(client, delivery, settings):
    settings.SECURE_SSL_REDIRECT = True

    response = client.get(dlr_url(delivery.account), {"MsgId": "M1", "Status": "6"})

    assert response.status_code == 301
    assert response["Location"].startswith("https://")
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUBMITTED


def test_the_lean_handler_resolves_for_itself_when_not_routed(delivery):
    client = Client()
    client.handler = LeanClientHandler(LEAN_MIDDLEWARE["hooks:isms_dlr"], False)

    response = client.get(
        dlr_url(delivery.account), {"MsgId": "M1", "Status": "6"}, REMOTE_ADDR=ISMS_ADDRESS
    )

    assert response.status_code == 200
    assert response.wsgi_request.resolver_match.view_name == "hooks:isms_dlr"


@pytest.mark.parametrize("view_name", sorted(LEAN_MIDDLEWARE))
def test_each_lean_middleware_list_is_the_sites_own_in_the_same_order(view_name):
    chain = LEAN_MIDDLEWARE[view_name]

    assert [path for path in settings.MIDDLEWARE if path in chain] == list(chain)


def test_a_hook_url_without_a_middleware_list_takes_the_full_path(client, isms, monkeypatch):
    monkeypatch.delitem(LEAN_MIDDLEWARE, "hooks:isms_incoming")

    response = client.get(
        reverse("hooks:isms_incoming", args=[isms.webhook_token]),
        {"ShortCode": "63633", "Sender": "60123456789", "ContentType": "1", "Msg": "hi"},
    )

    assert response.status_code == 200
    assert client.handler.last_route == "full"


@pytest.mark.django_db(transaction=True)  # the handler opens and closes connections itself
def test_the_wsgi_application_routes_callbacks_lean_and_pages_full(delivery):
    from smsportal.wsgi import application

    answers = []

    def call(environ):
        def start_response(status, headers, exc_info=None):
            answers.append((status, dict(headers)))

        body = b"".join(application(environ, start_response))
        return answers[-1][0], body

    report = RequestFactory().get(
        dlr_url(delivery.account), {"MsgId": "M1", "Status": "6"}, REMOTE_ADDR=ISMS_ADDRESS
    )
    assert call(report.environ) == ("200 OK", b"OK\n")
    assert MATCH_KEY in report.environ  # routed through the lean handler
    assert "Content-Security-Policy" not in answers[-1][1]
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED

    refused = (
        RequestFactory()
        .get("/hooks/isms/not-the-token/dlr", {"MsgId": "M1", "Status": "6"})
        .environ
    )
    assert call(refused) == ("400 Bad Request", b"refused\n")

    page = RequestFactory().get("/").environ
    status, _ = call(page)
    assert status.startswith("302")
    assert MATCH_KEY not in page
    assert "Content-Security-Policy" in answers[-1][1]


def test_an_opt_out_by_reply_is_audited_with_the_providers_address(client, isms):
    """The audit context (who, from where) is kept on the lean path: an opt-out a provider's
    callback makes is put down to its address, as through the full stack."""
    from smsportal.contacts.models import OptOut
    from smsportal.core.models import AuditEntry

    response = client.get(
        reverse("hooks:isms_incoming", args=[isms.webhook_token]),
        {"ShortCode": "63633", "Sender": "60123456789", "ContentType": "1", "Msg": "STOP"},
        REMOTE_ADDR=ISMS_ADDRESS,
    )

    assert response.status_code == 200
    assert client.handler.last_route == "lean"
    optout = OptOut.objects.get()
    entry = AuditEntry.objects.get_for_object(optout).get()
    assert entry.remote_addr == ISMS_ADDRESS
    assert entry.actor is None


def test_a_host_not_allowed_is_refused_on_the_lean_path_too(client, delivery):
    response = client.get(
        dlr_url(delivery.account),
        {"MsgId": "M1", "Status": "6"},
        REMOTE_ADDR=ISMS_ADDRESS,
        HTTP_HOST="portal.example.evil",
    )

    assert response.status_code == 400
    assert client.handler.last_route == "lean"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUBMITTED
