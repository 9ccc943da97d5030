"""Reports per route: deliveries, delivery rate and cost of each route's messages, per account
within the route, from one grouped query; a delivery that failed over counts where it ended."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from smsportal.messaging import routed
from smsportal.messaging.models import Delivery
from smsportal.messaging.sending import ResolvedRecipients
from smsportal.reports.routes import by_route
from smsportal.routing.models import Route, RouteAccount
from smsportal.sms.status import DeliveryStatus
from tests.conftest import general_department
from tests.factories import ProviderAccountFactory
from tests.support.sending import create_message

pytestmark = pytest.mark.django_db

KW1, KW2, SA1 = "+96550000001", "+96550000002", "+966500000001"


@pytest.fixture
def routed_sends(account):
    account.name = "Kuwait line"
    account.save()
    saudi = ProviderAccountFactory(name="Saudi line", kind="kwtsms")
    for n, (name, where, accounts) in enumerate(
        [("Kuwait", "KW", [account]), ("Saudi", "SA", [saudi, account])]
    ):
        route = Route.objects.create(name=name, destinations=where, position=n + 1)
        for m, a in enumerate(accounts):
            RouteAccount.objects.create(route=route, account=a, position=m)
    draft = routed.prepare_routed(
        body="Hi",
        recipients=ResolvedRecipients(phones=[KW1, KW2, SA1]),
        department=general_department(),
    )
    messages = routed.send_routed(draft)
    rows = {d.phone: d.pk for d in Delivery.objects.filter(message__in=messages)}
    Delivery.objects.filter(pk=rows[KW1]).update(
        status=DeliveryStatus.DELIVERED, cost=Decimal("0.02")
    )
    Delivery.objects.filter(pk=rows[KW2]).update(
        status=DeliveryStatus.UNDELIVERED, cost=Decimal("0.02")
    )
    # Failed over from Saudi line to Kuwait line: counted at Kuwait line, under "Saudi".
    Delivery.objects.filter(pk=rows[SA1]).update(
        status=DeliveryStatus.SUBMITTED, cost=Decimal("0.05"), account=account
    )
    # A message whose account was chosen by hand belongs to no route.
    create_message(account=account, body="Hi", recipients=ResolvedRecipients(phones=[KW1]))
    return account, saudi


def test_deliveries_rate_and_cost_per_route_and_account(
    routed_sends, django_assert_max_num_queries
):
    today = timezone.localdate()
    with django_assert_max_num_queries(1):
        routes = by_route(today, today, None)
    assert [r.name for r in routes] == ["Kuwait", "Saudi"]
    kuwait, saudi = routes
    assert (kuwait.deliveries, kuwait.total.delivery_rate, kuwait.total.cost) == (
        2,
        50.0,
        Decimal("0.04"),
    )
    assert [(name, n) for name, _f, n in kuwait.by_account()] == [("Kuwait line", 2)]
    assert (saudi.deliveries, saudi.total.delivery_rate, saudi.total.cost) == (
        1,
        None,
        Decimal("0.05"),
    )
    assert [(name, n) for name, _f, n in saudi.by_account()] == [("Kuwait line", 1)]


def test_an_account_filter_narrows_the_routes(routed_sends):
    _kuwait_line, saudi_line = routed_sends
    today = timezone.localdate()
    assert by_route(today, today, None, saudi_line.pk) == []


@pytest.mark.parametrize("who", ["operator_client", "manager_client", "admin_client"])
def test_the_reports_page_shows_the_routes(who, request, routed_sends):
    client = request.getfixturevalue(who)
    page = client.get(reverse("reports:index")).content.decode()
    assert 'id="table-routes"' in page
    table = page.split('id="table-routes"')[1].split("</table>")[0]
    assert "Kuwait" in table and "Saudi" in table and "Kuwait line" in table
    assert "50.0%" in table


def test_the_reports_page_says_when_no_route_sent_anything(operator_client):
    page = operator_client.get(reverse("reports:index")).content.decode()
    assert "No message was sent with “Automatic” in this range." in page
