"""Every way into the send path meets the quota: the API (422 over_quota, saying what is
left), a recurring send (the occurrence fails with the reason), compose (the form says it)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from smsportal.api.models import ApiKey
from smsportal.messaging.models import Message
from smsportal.recurring.models import Occurrence, RecurringSend
from smsportal.recurring.sending import run_due
from tests.api.conftest import Caller
from tests.factories import ContactFactory, ContactListFactory
from tests.support.compose import confirm_and_send

from .conftest import quota

pytestmark = pytest.mark.django_db


def test_the_api_refuses_a_send_over_quota_with_what_is_left(operator, account, script, sales):
    sales.members.add(operator)
    quota(sales, account, parts_per_day=1)
    _key, secret = ApiKey.issue(operator, "Billing", ["send", "read"], department=sales)

    answer = Caller(secret)(
        "POST",
        "/api/v1/messages",
        {"account": account.pk, "to": ["+96550000001", "+96550000002"], "text": "Hi"},
    )

    assert answer.status_code == 422, answer.content
    problem = answer.json()
    assert problem["code"] == "over_quota"
    assert "needs 2 parts; 1 part left today in Sales" in problem["detail"]
    assert not Message.objects.exists()


def test_a_recurring_send_over_quota_fails_its_occurrence_with_the_reason(account, script, sales):
    quota(sales, parts_per_month=0)
    staff = ContactListFactory(name="Staff")
    staff.add([ContactFactory(phone="+96550000001").pk])
    schedule = RecurringSend(
        name="Weekly",
        account=account,
        text="Meeting at 10",
        frequency="weekly",
        weekdays=[0],
        time_of_day=time(9, 0),
        timezone="UTC",
        starts_on=date(2026, 11, 30),
        department=sales,
    )
    schedule.plan(datetime(2026, 11, 30, 8, 0, tzinfo=UTC))
    schedule.save()
    schedule.lists.set([staff])

    run_due(datetime(2026, 11, 30, 9, 0, 30, tzinfo=UTC))

    occurrence = Occurrence.objects.get()
    assert occurrence.status == Occurrence.Status.FAILED
    assert "quota of Sales on all accounts is zero" in occurrence.reason
    assert not Message.objects.exists()


def test_compose_shows_the_refusal_on_the_form(operator_client, operator, account, sales):
    operator.departments.set([sales])
    quota(sales, account, parts_per_day=2)

    page = confirm_and_send(
        operator_client,
        {
            "account": account.pk,
            "sender": "",
            "recipients": "+96550000001\n+96550000002\n+96550000003",
            "text": "Hello",
            "token": "tok-1",
        },
    ).content.decode()

    assert "Over quota: this send needs 3 parts; 2 parts left today in Sales" in page
    assert not Message.objects.exists()
