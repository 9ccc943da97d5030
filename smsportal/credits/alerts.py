"""Low-balance alerts: an e-mail to the account's chosen addresses when a balance reading falls
below its low-balance warning — once per crossing, not on every refresh.

`check_low_balance` runs where every reading is stored (`BalanceSnapshot.objects.record`). The
account's `low_balance_alerted` flag is claimed with a conditional UPDATE, so two readings stored
at once (the scheduler's refresh and a Manager's click) send one alert; a reading back at or above
the threshold clears it, and the next fall alerts again. The provider's own figure is compared (not
the balance less what queued sends hold), so an alert means the provider's balance is low.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django_tasks import task

from smsportal.core import audit
from smsportal.providers.models import ProviderAccount

if TYPE_CHECKING:  # models.py calls this module when it stores a reading
    from .models import BalanceSnapshot

logger = logging.getLogger(__name__)


def check_low_balance(snapshot: BalanceSnapshot) -> bool:
    """Alert (after commit) if this reading crosses the account's threshold downwards; True when
    an alert was claimed."""
    account = snapshot.account
    threshold = account.low_balance_threshold
    accounts = ProviderAccount.objects.filter(pk=account.pk)
    if threshold is None or snapshot.amount >= threshold:
        accounts.filter(low_balance_alerted=True).update(low_balance_alerted=False)
        return False
    if not account.low_balance_emails.strip():
        return False  # nobody to tell: addresses added later hear of it at the next reading
    if not accounts.filter(low_balance_alerted=False).update(low_balance_alerted=True):
        return False  # told already during this fall
    amount = str(snapshot.amount)
    transaction.on_commit(lambda: send_low_balance_alert.enqueue(account.pk, amount))
    return True


@task()
def send_low_balance_alert(account_id: int, amount: str) -> None:
    account = ProviderAccount.objects.get(pk=account_id)
    recipients = account.low_balance_emails.split()
    balance = Decimal(amount)
    subject = f"Low balance: {account.name} has {balance:,.2f} credits left"
    body = (
        f"The balance of the SMS account {account.name} is {balance:,.2f}, below its "
        f"low-balance warning of {account.low_balance_threshold:,.2f}.\n\n"
        "Top it up with the provider, or move credit to it, before sends are refused.\n"
        "This is the only alert until the balance has been back above the warning.\n"
    )
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    except OSError as error:
        # Not sent: let the next reading try again rather than stay silent for this fall.
        ProviderAccount.objects.filter(pk=account_id).update(low_balance_alerted=False)
        logger.warning("Low-balance alert for %s not sent: %s", account, error)
        return
    audit.record("low_balance_alert", account, balance=amount, to=recipients)
    logger.info("Low-balance alert for %s sent to %d address(es)", account, len(recipients))
