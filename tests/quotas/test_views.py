"""The quotas page, the Managers' form, the CSV export and the usage bars on the dashboard and
the reports page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from smsportal.quotas.models import Quota

from .conftest import quota, send_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_sales(sales, manager, operator):
    sales.members.add(manager, operator)
    return sales


def test_operators_see_their_departments_usage_but_cannot_change_quotas(
    operator_client, in_sales, support, account
):
    quota(in_sales, account, parts_per_day=1_000)
    quota(support, parts_per_day=5)
    send_to(account, in_sales, 250)

    page = operator_client.get(reverse("quotas:list")).content.decode()

    assert "250 of 1,000" in page and "parts today" in page
    assert "Support" not in page  # not their department
    assert "Add quota" not in page and "Edit" not in page
    assert operator_client.get(reverse("quotas:create")).status_code == 403


def test_a_manager_adds_a_quota_for_their_department(manager_client, in_sales, support, account):
    form = manager_client.get(reverse("quotas:create")).content.decode()
    assert "Sales" in form and "Support" not in form  # only their own departments

    response = manager_client.post(
        reverse("quotas:create"),
        {
            "department": in_sales.pk,
            "account": account.pk,
            "parts_per_day": "500",
            "warn_at_percent": "75",
            "alert_emails": "cfo@example.com\n  ops@example.com",
        },
    )

    assert response.status_code == 302
    saved = Quota.objects.get()
    assert (saved.parts_per_day, saved.parts_per_month, saved.warn_at_percent) == (500, None, 75)
    assert saved.extra_recipients == ["cfo@example.com", "ops@example.com"]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({}, "Set at least one limit"),
        ({"parts_per_day": "-1"}, "greater than or equal to 0"),
        ({"parts_per_day": "5", "warn_at_percent": "0"}, "greater than or equal to 1"),
        ({"parts_per_day": "5", "alert_emails": "not-an-address"}, "Not an e-mail address"),
        ({"parts_per_day": "5", "duplicate": True}, "already has a quota over all accounts"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(manager_client, in_sales, data, error):
    if data.pop("duplicate", False):
        quota(in_sales, parts_per_month=10)
    post = {"department": in_sales.pk, "account": "", "warn_at_percent": "80", **data}

    response = manager_client.post(reverse("quotas:create"), post)

    assert response.status_code == 200
    assert error in response.content.decode()


def test_a_zero_quota_is_allowed_and_shown_as_nothing_may_be_sent(manager_client, in_sales):
    manager_client.post(
        reverse("quotas:create"),
        {"department": in_sales.pk, "parts_per_day": "0", "warn_at_percent": "80"},
    )
    assert Quota.objects.get().parts_per_day == 0
    assert "nothing may be sent" in manager_client.get(reverse("quotas:list")).content.decode()


def test_another_departments_quota_cannot_be_edited_or_removed(manager_client, in_sales, support):
    theirs = quota(support, parts_per_day=5)

    assert manager_client.get(reverse("quotas:edit", args=[theirs.pk])).status_code == 404
    assert manager_client.post(reverse("quotas:delete", args=[theirs.pk])).status_code == 404
    assert Quota.objects.filter(pk=theirs.pk).exists()


def test_a_manager_edits_and_removes_a_quota(manager_client, in_sales):
    q = quota(in_sales, parts_per_day=5)
    manager_client.post(
        reverse("quotas:edit", args=[q.pk]),
        {"department": in_sales.pk, "parts_per_day": "50", "warn_at_percent": "80"},
    )
    assert Quota.objects.get().parts_per_day == 50

    response = manager_client.post(reverse("quotas:delete", args=[q.pk]), follow=True)
    assert not Quota.objects.exists()
    assert "now unlimited" in response.content.decode()


def test_a_user_in_no_department_sees_a_clear_empty_state(operator_client, operator, sales):
    operator.departments.clear()
    quota(sales, parts_per_day=5)
    page = operator_client.get(reverse("quotas:list")).content.decode()
    assert "You are in no department" in page


def test_usage_exports_as_csv_per_department_and_period(operator_client, in_sales, account):
    quota(in_sales, account, parts_per_day=100, parts_per_month=1_000)
    send_to(account, in_sales, 12)

    response = operator_client.get(reverse("quotas:export"))

    assert response["Content-Type"].startswith("text/csv")
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0].startswith("department,account,period,starts,parts_used,parts_limit")
    rows = sorted(line.split(",")[:6] for line in lines[1:])
    assert [r[2] for r in rows] == ["day", "month"]
    assert {(r[0], r[1], r[4], r[5]) for r in rows} == {
        ("Sales", account.name, "12", "100"),
        ("Sales", account.name, "12", "1000"),
    }
    bad = operator_client.get(
        reverse("quotas:export"), {"since": "2026-12-01", "until": "2025-01-01"}
    )
    assert bad.status_code == 400


def test_the_dashboard_and_reports_show_a_bar_per_quota(operator_client, in_sales, account):
    quota(in_sales, parts_per_day=10, credit_per_month=2)
    send_to(account, in_sales, 4)

    for url in (reverse("dashboard"), reverse("reports:index")):
        page = operator_client.get(url).content.decode()
        assert 'id="quota-usage"' in page, url
        assert "4 of 10" in page and "0.04 of 2.00" in page
        assert 'style="width: 40%"' in page


def test_no_quota_no_usage_card(operator_client, in_sales, account):
    assert 'id="quota-usage"' not in operator_client.get(reverse("dashboard")).content.decode()
