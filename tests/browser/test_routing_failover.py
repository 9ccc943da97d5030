"""Failover and the route reports as staff see them: account A's provider is down (nothing
listens), a message sent with "Automatic" fails over to B on the sandbox; as the Operator, the
Manager and a superuser, at 1366 and 390 px wide, the message page names the route and the
account each recipient went through, the Reports page's "By route" table counts them at B, and
(superuser) the admin's delivery history shows both attempts. Screenshots go to
$ROUTING_SCREENSHOTS when set (for a person to look at), else to the test's tmp dir."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from smsportal.messaging import routed
from smsportal.messaging.models import Delivery
from smsportal.messaging.sending import ResolvedRecipients
from smsportal.routing.models import Route, RouteAccount
from tests.conftest import general_department
from tests.factories import PASSWORD, UserFactory
from tests.support.postgres import free_port

pytestmark = pytest.mark.django_db(transaction=True)

PHONES = ["+96597110001", "+96597110002", "+96597110003"]
WIDTHS = {"wide": (1366, 900), "phone": (390, 844)}


@pytest.fixture
def failed_over(sandbox, sandbox_account, monkeypatch, manager):
    monkeypatch.setattr("smsportal.messaging.dispatch.RETRY_BACKOFF", 0.01)
    down = sandbox_account("kwtsms", name="KwtSMS main")
    down.base_url = f"http://127.0.0.1:{free_port()}/API/"  # nothing listens: refused
    down.save()
    spare = sandbox_account("isms", name="ISMS spare")
    route = Route.objects.create(name="Kuwait mobiles", destinations="KW", position=1)
    RouteAccount.objects.create(route=route, account=down, position=0)
    RouteAccount.objects.create(route=route, account=spare, position=1)
    draft = routed.prepare_routed(
        body="Your parcel is on its way",
        recipients=ResolvedRecipients(phones=PHONES),
        department=general_department(),
        user=manager,
    )
    [message] = routed.send_routed(draft)  # committed: dispatch runs (immediate backend)
    assert set(Delivery.objects.filter(message=message).values_list("status", "account_id")) == {
        ("submitted", spare.pk)
    }
    return message


def shots() -> Path | None:
    folder = os.environ.get("ROUTING_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return Path(folder)
    return None


@pytest.mark.parametrize("role", ["operator", "manager", "superuser"])
def test_failover_and_route_reports_as_each_role_at_two_widths(
    role, request, browser, live_server, failed_over, tmp_path
):
    if role == "superuser":
        user = UserFactory(username="admin", is_superuser=True, is_staff=True)
        general_department().members.add(user)
    else:
        user = request.getfixturevalue(role)
    folder = shots() or tmp_path
    message = failed_over
    errors: list[str] = []

    def console(entry):
        if entry.type == "error":
            errors.append(entry.text)

    for width_name, (width, height) in WIDTHS.items():
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        page.on("console", console)
        page.goto(f"{live_server.url}/auth/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page).not_to_have_url(f"{live_server.url}/auth/login/")

        page.goto(f"{live_server.url}{message.get_absolute_url()}")
        expect(page.locator("#message-route")).to_contain_text("Kuwait mobiles")
        expect(page.locator("[data-failover]").first).to_contain_text(
            "through ISMS spare, the route's next account"
        )
        expect(page.locator("[data-failover]")).to_have_count(len(PHONES))
        page.screenshot(path=folder / f"message-{role}-{width_name}.png", full_page=True)

        page.goto(f"{live_server.url}/reports/")
        table = page.locator("#table-routes")
        expect(table).to_contain_text("Kuwait mobiles")
        expect(table).to_contain_text("ISMS spare")
        page.screenshot(path=folder / f"reports-{role}-{width_name}.png", full_page=True)
        page.locator("#routes").scroll_into_view_if_needed()
        page.screenshot(path=folder / f"reports-routes-{role}-{width_name}.png")

        if role == "superuser":
            delivery = Delivery.objects.filter(message=message).order_by("pk").first()
            page.goto(f"{live_server.url}/admin/messaging/delivery/{delivery.pk}/change/")
            expect(page.locator("body")).to_contain_text("Not sent through KwtSMS main")
            expect(page.locator("body")).to_contain_text("moved to ISMS spare")
            page.screenshot(path=folder / f"admin-{role}-{width_name}.png", full_page=True)
        assert errors == []
        context.close()
