"""Quota warnings: one e-mail to the department's Managers (and the quota's extra addresses)
per crossing of the threshold, per period."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail

from smsportal.core.models import AuditEntry
from smsportal.quotas import alerts
from smsportal.quotas.models import Usage

from .conftest import quota, send_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def managed(sales, manager, operator):
    manager.email = "boss@example.com"
    manager.save()
    operator.email = "op@example.com"
    operator.save()
    sales.members.add(manager, operator)
    return sales


def test_crossing_the_threshold_warns_the_departments_managers_once(
    account, managed, django_capture_on_commit_callbacks
):
    quota(managed, account, parts_per_day=10, warn_at_percent=80, alert_emails="cfo@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        send_to(account, managed, 7)
    assert mail.outbox == []  # 70%: below the warning

    with django_capture_on_commit_callbacks(execute=True):
        send_to(account, managed, 1)
    assert len(mail.outbox) == 1
    warning = mail.outbox[0]
    assert warning.to == ["boss@example.com", "cfo@example.com"]  # Managers, not Operators
    assert warning.subject == (
        f"Quota warning: Sales has used 80% of its parts today on {account.name}"
    )
    assert "Sales has used 8 of its 10 parts today" in warning.body
    assert AuditEntry.objects.filter(event="quota_warning").count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        send_to(account, managed, 1)
    assert len(mail.outbox) == 1  # the same crossing: no second e-mail


def test_usage_given_back_below_the_threshold_lets_the_next_crossing_warn_again(
    account, managed, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    quota(managed, account, parts_per_day=10, warn_at_percent=50)
    with django_capture_on_commit_callbacks() as callbacks:
        later = send_to(account, managed, 6, scheduled_for=timezone.now() + timedelta(hours=1))
    for callback in callbacks:  # the warning, not the dispatch (the test tasks run at once)
        if getattr(callback, "__self__", None) != later:
            callback()
    assert len(mail.outbox) == 1

    later.cancel()
    assert Usage.objects.get().warned_parts is False

    with django_capture_on_commit_callbacks(execute=True):
        send_to(account, managed, 5)
    assert len(mail.outbox) == 2


def test_each_limit_warns_on_its_own(account, managed, django_capture_on_commit_callbacks):
    quota(managed, parts_per_month=1_000, credit_per_month=Decimal("0.10"), warn_at_percent=90)

    with django_capture_on_commit_callbacks(execute=True):
        send_to(account, managed, 9)  # 0.09 credit: 90% of credit, 0.9% of parts

    assert [m.subject for m in mail.outbox] == [
        "Quota warning: Sales has used 90% of its credits this month on all accounts"
    ]
    assert "0.09 of its 0.10 credits this month" in mail.outbox[0].body


def test_nobody_to_tell_claims_nothing_so_a_manager_added_later_hears_next_time(
    account, sales, manager, django_capture_on_commit_callbacks
):
    quota(sales, account, parts_per_day=10, warn_at_percent=50)
    with django_capture_on_commit_callbacks(execute=True):
        send_to(account, sales, 5)
    assert mail.outbox == [] and Usage.objects.get().warned_parts is False

    manager.email = "boss@example.com"
    manager.save()
    sales.members.add(manager)
    with django_capture_on_commit_callbacks(execute=True):
        send_to(account, sales, 1)
    assert len(mail.outbox) == 1


def test_a_failed_e_mail_is_tried_again_at_the_next_send(account, managed, monkeypatch):
    quota(managed, account, parts_per_day=10, warn_at_percent=50)

    def broken(*args, **kwargs):
        raise OSError("mail server down")

    monkeypatch.setattr(alerts, "send_mail", broken)
    usage = Usage.objects.create(
        quota=managed.quotas.get(), period="day", starts="2026-12-01", parts=6, warned_parts=True
    )
    alerts.send_quota_warning.call(usage.pk, "parts")

    assert Usage.objects.get(pk=usage.pk).warned_parts is False
