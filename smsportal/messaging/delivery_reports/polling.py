"""Asking providers that do not push reports (KalaSMS) what became of our open deliveries.

Each open delivery is asked about with growing intervals (POLL_BACKOFF), and after GIVE_UP_AFTER
without a final answer it becomes `unknown` with that reason. Where the provider lists recent
reports in one call (`delreport`), that call comes first and settles many at once.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from smsportal.providers.backends.base import ProviderError, StatusUpdate
from smsportal.providers.models import ProviderAccount
from smsportal.sms.status import DeliveryStatus

from ..models import Delivery, DeliveryEvent
from .apply import apply_status_update

log = logging.getLogger(__name__)

POLL_FIRST = timedelta(minutes=1)
POLL_MAX_INTERVAL = timedelta(hours=1)
GIVE_UP_AFTER = timedelta(hours=72)
POLL_BATCH = 500  # deliveries asked about per account per run


def pollable_accounts() -> list[ProviderAccount]:
    accounts = ProviderAccount.objects.filter(is_active=True)
    return [account for account in accounts if account.backend.capabilities.reports_poll]


def next_interval(polls: int) -> timedelta:
    return min(POLL_FIRST * 2**polls, POLL_MAX_INTERVAL)


def give_up(account: ProviderAccount, now) -> int:
    """Open deliveries older than the give-up age become unknown, with the reason."""
    stale = Delivery.objects.filter(
        account=account,
        status=DeliveryStatus.SUBMITTED,
        submitted_at__lt=now - GIVE_UP_AFTER,
    ).values_list("provider_message_id", "phone")
    hours = int(GIVE_UP_AFTER.total_seconds() // 3600)
    changed = 0
    for provider_id, phone in stale.iterator():
        changed += apply_status_update(
            account,
            StatusUpdate(
                provider_message_id=provider_id,
                status=DeliveryStatus.UNKNOWN,
                description=f"No delivery report within {hours} hours.",
                recipient=phone,
            ),
            DeliveryEvent.Source.POLL,
        )
    return changed


def poll_account(account: ProviderAccount, now=None) -> int:
    """One round for one account; returns how many deliveries changed."""
    now = now or timezone.now()
    backend = account.backend
    changed = 0
    try:
        for update in backend.recent_delivery_reports():
            changed += _apply_known(account, update)
    except ProviderError as exc:
        log.info("recent reports of %s unavailable: %s", account, exc)
    due = list(
        Delivery.objects.filter(account=account, status=DeliveryStatus.SUBMITTED)
        .exclude(provider_message_id="")
        .filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now))
        .order_by("next_poll_at", "id")
        .only("id", "provider_message_id", "phone", "polls")[:POLL_BATCH]
    )
    for delivery in due:
        try:
            changed += delivery.refresh_status(backend)
        except ProviderError as exc:
            log.info("report of %s at %s unavailable: %s", delivery.pk, account, exc)
        delivery.polls += 1
        delivery.next_poll_at = now + next_interval(delivery.polls)
    Delivery.objects.bulk_update(due, ["polls", "next_poll_at"], batch_size=500)
    return changed + give_up(account, now)


def _apply_known(account: ProviderAccount, update: StatusUpdate) -> int:
    """A bulk report list may cover messages that are not ours: apply only known ids."""
    if not Delivery.objects.filter(
        account=account, provider_message_id=update.provider_message_id
    ).exists():
        return 0
    return apply_status_update(account, update, DeliveryEvent.Source.POLL)


def poll_all() -> int:
    return sum(poll_account(account) for account in pollable_accounts())
