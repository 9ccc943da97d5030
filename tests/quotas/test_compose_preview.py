"""The compose preview says what is left of the sending department's quotas on the chosen
account, before anyone presses Send: the department's own quotas only, never another's; nothing
when the department has no quota there (it may send without limit)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from smsportal.quotas import services
from tests.factories import ProviderAccountFactory

from .conftest import quota

pytestmark = pytest.mark.django_db


def preview(client, account, **extra) -> str:
    data = {"account": account.pk, "recipients": "+96550000001", "text": "Hello", **extra}
    return client.post(reverse("messaging:compose"), data, HTTP_HX_REQUEST="true").content.decode()


def test_the_preview_says_what_is_left_of_the_departments_quotas(
    operator_client, operator, account, sales, support
):
    operator.departments.set([sales])
    quota(sales, account, parts_per_day=1_500)
    quota(sales, parts_per_month=20_000, credit_per_month=Decimal("2500"))
    quota(support, account, parts_per_day=7)  # another department's: never shown
    services.reserve(sales, account, parts=3, credit=Decimal("1.5"), message_id=0)

    page = preview(operator_client, account)

    assert 'id="preview-quota"' in page
    name = account.name
    assert f"Left in the quota of Sales on {name}: 1,497 of 1,500 parts today" in page
    assert "Left in the quota of Sales on all accounts: 19,997 of 20,000 parts this month" in page
    assert "Left in the quota of Sales on all accounts: 2,498.50 of 2,500.00 credit this month" in (
        page
    )
    assert "Support" not in page and "of 7 " not in page


def test_a_quota_with_nothing_left_is_shown_as_danger(operator_client, operator, account, sales):
    operator.departments.set([sales])
    quota(sales, account, parts_per_day=0)

    page = preview(operator_client, account)

    assert f"Left in the quota of Sales on {account.name}: 0 of 0 parts today" in page
    assert 'class="text-danger-emphasis"' in page


def test_the_department_chosen_is_the_one_whose_quota_shows(
    operator_client, operator, account, sales, support
):
    operator.departments.set([sales, support])
    quota(sales, account, parts_per_day=10)
    quota(support, account, parts_per_day=7)

    page = preview(operator_client, account, department=support.pk)

    assert f"Left in the quota of Support on {account.name}: 7 of 7 parts today" in page
    assert "Sales" not in page


def test_no_quota_there_no_quota_line(operator_client, operator, account, sales):
    operator.departments.set([sales])
    other = ProviderAccountFactory(name="Elsewhere")
    quota(sales, other, parts_per_day=10)  # on another account: this send need not fit it

    assert 'id="preview-quota"' not in preview(operator_client, account)


def test_the_confirmation_and_a_refusal_say_it_too(operator_client, operator, account, sales):
    operator.departments.set([sales])
    quota(sales, account, parts_per_day=2)
    data = {"account": account.pk, "text": "Hello", "token": "tok-1", "action": "send"}

    confirmation = operator_client.post(
        reverse("messaging:compose"), {**data, "recipients": "+96550000001"}
    ).content.decode()
    refusal = operator_client.post(
        reverse("messaging:compose"),
        {**data, "recipients": "+96550000001\n+96550000002\n+96550000003"},
    ).content.decode()

    assert "Confirm and send" in confirmation
    assert f"Left in the quota of Sales on {account.name}: 2 of 2 parts today" in confirmation
    assert "Over quota: this send needs 3 parts; 2 parts left today in Sales" in refusal
    assert f"Left in the quota of Sales on {account.name}: 2 of 2 parts today" in refusal
