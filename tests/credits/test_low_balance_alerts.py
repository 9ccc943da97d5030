"""Low-balance alerts: one e-mail per fall below the account's warning, not one per reading."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail

from smsportal.core.models import AuditEntry
from smsportal.credits.models import BalanceSnapshot
from smsportal.providers.backends.base import Balance
from tests.factories import ProviderAccountFactory

pytestmark = pytest.mark.django_db(transaction=True)  # alerts leave on commit


@pytest.fixture
def account():
    return ProviderAccountFactory(
        name="Main",
        low_balance_threshold=Decimal("100"),
        low_balance_emails="ops@example.com\nboss@example.com",
    )


def reading(account, amount: str) -> None:
    account.refresh_from_db()
    BalanceSnapshot.objects.record(account, Balance(amount=Decimal(amount), raw=""), "refresh")


def test_one_alert_per_crossing_not_per_reading(account):
    reading(account, "500")
    assert mail.outbox == []

    reading(account, "99.50")
    reading(account, "80")
    reading(account, "60")

    assert len(mail.outbox) == 1
    alert = mail.outbox[0]
    assert alert.to == ["ops@example.com", "boss@example.com"]
    assert alert.subject == "Low balance: Main has 99.50 credits left"
    assert "below its low-balance warning of 100.00" in alert.body
    assert AuditEntry.objects.filter(event="low_balance_alert").count() == 1


def test_back_above_then_below_again_alerts_again(account):
    reading(account, "50")
    reading(account, "100")  # at the threshold is not below it
    reading(account, "40")

    assert len(mail.outbox) == 2


def test_no_threshold_or_no_addresses_sends_nothing(account):
    account.low_balance_emails = ""
    account.save()
    reading(account, "10")
    assert mail.outbox == []

    # Addresses added while below: told at the next reading.
    account.low_balance_emails = "ops@example.com"
    account.save()
    reading(account, "9")
    assert len(mail.outbox) == 1

    account.low_balance_threshold = None
    account.save()
    reading(account, "1")
    assert len(mail.outbox) == 1


def test_a_failed_mail_is_tried_again_at_the_next_reading(account, settings, monkeypatch):
    import smsportal.credits.alerts as alerts

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr(alerts, "send_mail", refuse)
    reading(account, "10")
    account.refresh_from_db()
    assert account.low_balance_alerted is False

    monkeypatch.undo()
    reading(account, "9")
    assert len(mail.outbox) == 1


def test_the_form_checks_the_addresses_and_needs_a_threshold():
    from smsportal.providers.forms import ProviderAccountForm
    from tests.providers.test_account_pages import post_data

    bad = ProviderAccountForm(post_data("kalasms", low_balance_emails="ops@example.com nope"))
    assert not bad.is_valid()
    assert "“nope” is not an e-mail address." in bad.errors["low_balance_emails"]

    no_threshold = ProviderAccountForm(post_data("kalasms", low_balance_emails="a@example.com"))
    assert not no_threshold.is_valid()
    assert "low_balance_threshold" in no_threshold.errors

    good = ProviderAccountForm(
        post_data(
            "kalasms",
            low_balance_threshold="50",
            low_balance_emails="a@example.com, b@example.com\nA@example.com",
        )
    )
    assert good.is_valid(), good.errors
    assert good.cleaned_data["low_balance_emails"] == "a@example.com\nb@example.com"
