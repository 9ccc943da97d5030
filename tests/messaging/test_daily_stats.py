"""The running daily summary always equals what the deliveries say."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from smsportal.messaging import dispatch
from smsportal.messaging.daily_stats import computed_from_deliveries, current, rebuild
from smsportal.messaging.delivery_reports import apply_status_update
from smsportal.messaging.models import Delivery, DeliveryEvent
from smsportal.messaging.sending import ResolvedRecipients
from smsportal.providers.backends.base import (
    SendResult,
    StatusUpdate,
    SubmitResult,
    SubmitStatus,
)
from smsportal.sms.status import DeliveryStatus
from smsportal.sms.status_rules import MOVES
from tests.support.sending import create_message

pytestmark = pytest.mark.django_db


def numbers(n, start=0):
    return [f"+9655{start + i:07d}" for i in range(n)]


def test_the_summary_follows_every_kind_of_change(
    account, script, django_capture_on_commit_callbacks
):
    def mixed(call, recipients):
        return SendResult(
            [
                SubmitResult(
                    r,
                    [SubmitStatus.SUBMITTED, SubmitStatus.FAILED, SubmitStatus.UNKNOWN][i % 3],
                    provider_message_id=f"P{r.reference}",
                    error_code="1705" if i % 3 == 1 else "",
                )
                for i, r in enumerate(recipients)
            ]
        )

    script.behaviour = mixed
    with django_capture_on_commit_callbacks(execute=True):
        sent = create_message(
            account=account,
            body="Hi",
            recipients=ResolvedRecipients(phones=numbers(30), skipped=[("1", "too short")]),
        )
    # Reports: some delivered, one undelivered, one for an unknown delivery, one repeated.
    for d in sent.deliveries.filter(status=DeliveryStatus.SUBMITTED)[:5]:
        update = StatusUpdate(provider_message_id=d.provider_message_id, status="delivered")
        apply_status_update(account, update)
        apply_status_update(account, update)
    unknown = sent.deliveries.filter(status=DeliveryStatus.UNKNOWN).first()
    apply_status_update(
        account,
        StatusUpdate(
            provider_message_id=unknown.provider_message_id,
            status="undelivered",
            provider_status="13",
            description="Out of coverage",
        ),
    )
    # A cancelled message and a swept one.
    cancelled = create_message(
        account=account, body="Hi", recipients=ResolvedRecipients(phones=numbers(4, 100))
    )
    cancelled.cancel()
    stuck = create_message(
        account=account, body="Hi", recipients=ResolvedRecipients(phones=numbers(3, 200))
    )
    Delivery.objects.filter(message=stuck).update(
        status=DeliveryStatus.SENDING, sending_at=timezone.now() - timedelta(hours=1)
    )
    dispatch.sweep_stuck(timedelta(minutes=5))

    assert current() == computed_from_deliveries()
    assert rebuild() == len(current())
    assert current() == computed_from_deliveries()
    # Every move these made is one the rule table allows.
    made = set(DeliveryEvent.objects.values_list("from_status", "to_status"))
    assert made - MOVES == set()
    assert len(made) >= 6
