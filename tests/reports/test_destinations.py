"""Reports per destination country: deliveries, delivery rate and cost, from one grouped query."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from smsportal.messaging.models import Delivery
from smsportal.messaging.sending import ResolvedRecipients
from smsportal.reports.destinations import by_country, country_of
from smsportal.sms.status import DeliveryStatus
from tests.support.sending import create_message

pytestmark = pytest.mark.django_db


def test_a_number_is_named_by_its_calling_code():
    assert country_of("+965") == "KW (+965)"
    assert country_of("+201") == "EG (+20)"
    assert country_of("+447") == "GB (+44)"
    assert country_of("+123") == "US (+1)"


def test_deliveries_rate_and_cost_per_country(account, django_assert_max_num_queries):
    message = create_message(
        account=account,
        body="Hi",
        recipients=ResolvedRecipients(phones=["+96550000001", "+96550000002", "+966500000001"]),
    )
    rows = {d.phone: d for d in message.deliveries.all()}
    Delivery.objects.filter(pk=rows["+96550000001"].pk).update(
        status=DeliveryStatus.DELIVERED, cost=Decimal("0.02")
    )
    Delivery.objects.filter(pk=rows["+96550000002"].pk).update(
        status=DeliveryStatus.UNDELIVERED, cost=Decimal("0.02")
    )
    Delivery.objects.filter(pk=rows["+966500000001"].pk).update(
        status=DeliveryStatus.SUBMITTED, cost=Decimal("0.05")
    )
    today = timezone.localdate()
    with django_assert_max_num_queries(1):
        figures = dict(by_country(today, today, None))
    kuwait, saudi = figures["KW (+965)"], figures["SA (+966)"]
    assert (kuwait.sent, kuwait.delivery_rate, kuwait.cost) == (2, 50.0, Decimal("0.04"))
    assert (saudi.sent, saudi.delivery_rate, saudi.cost) == (1, None, Decimal("0.05"))


def test_the_reports_page_shows_the_countries(operator_client, account):
    create_message(
        account=account, body="Hi", recipients=ResolvedRecipients(phones=["+96550000001"])
    )
    page = operator_client.get(reverse("reports:index")).content.decode()
    assert 'id="table-countries"' in page
    assert "KW (+965)" in page
