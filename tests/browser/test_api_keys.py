"""A person makes an API key on their profile page, another system sends with it, and the
message shows in the portal marked "via API (key name)"; the API's docs pages work under the
Content-Security-Policy. As Operator, Manager and superuser."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from smsportal.api.models import ApiKey
from tests.conftest import general_department
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(params=["operator", "manager", "superuser"])
def person(request, db):
    if request.param == "superuser":
        root = UserFactory(username="root", is_superuser=True, is_staff=True)
        general_department().members.add(root)  # a key sends for one of its user's departments
        return root
    return request.getfixturevalue(request.param)


def csp_violations(page) -> list[str]:
    found: list[str] = []
    page.on(
        "console",
        lambda msg: found.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    return found


def test_a_key_made_on_the_profile_page_sends_a_message_marked_via_api(
    page, live_server, login, person, account
):
    violations = csp_violations(page)
    login(person, PASSWORD)
    page.locator("#user-menu").click()
    page.get_by_role("link", name="Your profile").click()
    expect(page.get_by_role("heading", name="API keys")).to_be_visible()

    page.get_by_label("Name").fill("Billing system")
    page.get_by_label("Send, cancel and preview messages").check()
    page.get_by_label("Read messages, accounts").check()
    page.get_by_role("button", name="Create key").click()
    secret = page.locator("#new-api-key-secret").inner_text().strip()
    assert secret.startswith("smsp_")
    assert "<html" not in page.locator("#api-keys").inner_html()  # swapped in place

    answer = requests.post(
        f"{live_server.url}/api/v1/messages",
        json={"account": account.pk, "to": ["+96597119440"], "text": "From billing"},
        headers={"Authorization": f"Bearer {secret}", "Idempotency-Key": "invoice-1"},
        timeout=30,
    )
    assert answer.status_code == 202, answer.text
    message_id = answer.json()["message"]["id"]

    page.goto(f"{live_server.url}/messages/{message_id}/")
    expect(page.locator("#via-api")).to_have_text("via API (Billing system)")

    page.goto(f"{live_server.url}/auth/profile/")
    row = page.locator(f"#api-key-{ApiKey.objects.get().pk}")
    expect(row).to_contain_text("127.0.0.1")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Revoke").click()
    expect(row).to_contain_text("revoked")
    refused = requests.get(
        f"{live_server.url}/api/v1/messages",
        headers={"Authorization": f"Bearer {secret}"},
        timeout=30,
    )
    assert refused.status_code == 401 and refused.json()["code"] == "key_revoked"
    assert not violations, violations


def test_the_docs_pages_draw_under_the_policy(page, live_server, login, person):
    violations = csp_violations(page)
    failed: list[str] = []
    # A request the browser dropped because the test went to the next page (the dashboard's
    # favicon, say) is not a failure of the docs pages; anything else is.
    page.on(
        "requestfailed",
        lambda request: request.failure == "net::ERR_ABORTED" or failed.append(request.url),
    )
    login(person, PASSWORD)
    page.goto(f"{live_server.url}/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("SMS Portal API")
    expect(page.get_by_text("/api/v1/messages").first).to_be_visible()
    page.goto(f"{live_server.url}/api/redoc/")
    expect(page.get_by_role("heading", name="SMS Portal API").first).to_be_visible()
    expect(page.get_by_role("heading", name="Send a message").first).to_be_visible()
    # Redoc's sidebar footer always asks for Redocly's logo from their CDN; the policy blocks it
    # (nothing loads from a CDN) and the page carries on without the picture.
    logo = "https://cdn.redoc.ly/redoc/logo-mini.svg"
    assert not [v for v in violations if logo not in v], violations
    assert not [url for url in failed if url != logo], failed
