"""Balances as the providers report them, and the ledger of credit transfers."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from smsportal.providers.backends.base import Balance
from smsportal.providers.models import ProviderAccount

from .alerts import check_low_balance

logger = logging.getLogger(__name__)

CREDITS = {"max_digits": 14, "decimal_places": 4}


class BalanceSource(models.TextChoices):
    REFRESH = "refresh", "Balance enquiry"  # we asked the provider
    SEND = "send", "Reported after a send"  # KwtSMS answers a send with the balance after it
    TRANSFER = "transfer", "After a transfer"  # taken (or, failing that, worked out) after one


class BalanceSnapshotQuerySet(models.QuerySet):
    def newest_first(self) -> BalanceSnapshotQuerySet:
        """Newest first, ties by id: "the latest balance" everywhere (index
        snapshot_account_latest)."""
        return self.order_by("-taken_at", "-id")

    def latest_of(self, account: ProviderAccount | int) -> BalanceSnapshot | None:
        """The current balance of `account` (an account or its id), None if never read."""
        account_id = getattr(account, "pk", account)
        return self.filter(account_id=account_id).newest_first().first()


class BalanceSnapshotManager(models.Manager.from_queryset(BalanceSnapshotQuerySet)):
    def record(
        self, account: ProviderAccount, balance: Balance, source: BalanceSource | str
    ) -> BalanceSnapshot:
        """Store one reading of `account`'s balance as the provider reported it: the one way a
        balance is stored (dispatch calls it with KwtSMS's balance-after-send), so every reading
        is checked against the account's low-balance warning."""
        snapshot = self.create(
            account=account,
            amount=balance.amount,
            purchased=balance.purchased,
            used=balance.used,
            source=source,
            raw=balance.raw[:2000],
        )
        check_low_balance(snapshot)
        return snapshot

    def refresh(
        self, account: ProviderAccount, source: BalanceSource | str = BalanceSource.REFRESH
    ) -> BalanceSnapshot:
        """Ask the provider for `account`'s balance and store it. Raises the backend's
        ProviderError (UnsupportedOperation where the provider reports no balance); nothing is
        stored then."""
        balance = account.backend.balance()
        before = self.latest_of(account)
        snapshot = self.record(account, balance, source)
        # The scheduler asks every 15 minutes: an unchanged balance is not news.
        logger.log(
            logging.INFO if before is None or snapshot.amount != before.amount else logging.DEBUG,
            "Balance of %s: %s (%s)",
            account,
            f"{snapshot.amount:,.2f}",
            "first reading" if before is None else f"was {before.amount:,.2f}",
        )
        return snapshot


class BalanceSnapshot(models.Model):
    """One reading of an account's balance. Never changed; the latest per account is current."""

    account = models.ForeignKey(
        ProviderAccount, on_delete=models.CASCADE, related_name="balance_snapshots"
    )
    amount = models.DecimalField("balance", **CREDITS)
    purchased = models.DecimalField(null=True, blank=True, **CREDITS)  # KwtSMS
    used = models.DecimalField(null=True, blank=True, **CREDITS)  # ISMS
    source = models.CharField(max_length=16, choices=BalanceSource.choices)
    taken_at = models.DateTimeField(default=timezone.now)
    raw = models.TextField("provider's answer", blank=True)

    objects = BalanceSnapshotManager()

    class Meta:
        ordering = ["-taken_at", "-pk"]
        get_latest_by = ["taken_at", "pk"]
        indexes = [
            # "Latest per account" (a LIMIT 1 seek per account) and "one account over time".
            models.Index(fields=["account", "-taken_at", "-id"], name="snapshot_account_latest"),
            # The chart over all accounts for a period.
            models.Index(fields=["taken_at"], name="snapshot_taken_at"),
        ]
        permissions = [
            (
                "send_beyond_balance",
                "Can send past the known balance on an account that allows credit",
            )
        ]

    def __str__(self) -> str:
        taken = timezone.localtime(self.taken_at)
        return f"{self.account}: {self.amount} at {taken:%Y-%m-%d %H:%M}"


class AccountCredit(models.Model):
    """The one row per account that transfers update atomically: credits held by transfers
    that have been claimed but whose outcome is not yet recorded.

    A transfer reserves its amount with a single conditional UPDATE that also checks the latest
    balance, so two transfers racing on one account cannot both pass a check only one can
    satisfy (see `transfers.claim`).
    """

    account = models.OneToOneField(
        ProviderAccount, on_delete=models.CASCADE, primary_key=True, related_name="credit"
    )
    reserved = models.DecimalField(default=Decimal("0"), **CREDITS)

    def __str__(self) -> str:
        return f"{self.account}: {self.reserved} reserved"


class TransferOutcome(models.TextChoices):
    PENDING = "pending", _("Awaiting confirmation")
    EXECUTING = "executing", _("Being sent to the provider")
    DONE = "done", _("Done")  # the provider confirmed it (ISMS 1707)
    REFUSED = "refused", _("Refused")  # refused by the provider, or by the portal's balance check
    UNKNOWN = "unknown", _("Unknown")  # it may or may not have happened: check before retrying


FINAL_OUTCOMES = (TransferOutcome.DONE, TransferOutcome.REFUSED)

# ISMS remembers a seqno for 24 hours and answers a repeat with 1718. A retry with the same
# seqno is safe only inside that window, so the portal allows one only well inside it.
RETRY_WINDOW = timedelta(hours=23)


class TransferIsFinal(Exception):
    """Raised on an attempt to change a transfer whose outcome is final."""


class CreditTransfer(models.Model):
    """One credit transfer to a customer account (ISMS transfer.aspx): a ledger row.

    Created `pending` when a Manager fills in the form, executed once after confirmation, and
    never changed after its outcome is final (done or refused). Every state change is a
    conditional UPDATE on the outcome it expects, so two requests cannot both act on it.
    """

    account = models.ForeignKey(
        ProviderAccount,
        on_delete=models.PROTECT,
        related_name="credit_transfers",
        verbose_name="from account",
    )
    customer = models.CharField("customer username", max_length=100)
    amount = models.DecimalField(**CREDITS, validators=[MinValueValidator(Decimal("0.0001"))])
    # The form's one-time token: a double-submitted form finds the row it already created.
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    outcome = models.CharField(
        max_length=16, choices=TransferOutcome.choices, default=TransferOutcome.PENDING
    )
    provider_code = models.CharField(max_length=32, blank=True)
    provider_text = models.TextField("provider's answer", blank=True)
    provider_raw = models.TextField(blank=True)
    balance_before = models.DecimalField(null=True, blank=True, **CREDITS)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    executed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    first_sent_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    executed_at = models.DateTimeField("outcome recorded at", null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["-created_at"], name="transfer_created"),
            models.Index(fields=["account", "outcome"], name="transfer_account_outcome"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="transfer_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"Transfer {self.reference}: {self.amount} from {self.account} to {self.customer}"

    def save(self, *args, **kwargs) -> None:
        if self.pk and type(self).objects.filter(pk=self.pk, outcome__in=FINAL_OUTCOMES).exists():
            raise TransferIsFinal(f"{self} has a final outcome and cannot be changed.")
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("credits:transfer_detail", args=[self.pk])

    @property
    def reference(self) -> str:
        """The provider's idempotency key (ISMS `seqno`, at most 20 characters), derived from
        this row's id so every retry of this transfer repeats it. The "T" keeps it apart from
        the seqnos the sending code derives from delivery ids."""
        return f"T{self.pk}"

    @property
    def is_final(self) -> bool:
        return self.outcome in FINAL_OUTCOMES

    @property
    def can_retry(self) -> bool:
        """An unknown outcome may be retried with the same seqno while the provider still
        remembers it: a repeat is then refused as a duplicate instead of transferring twice."""
        return (
            self.outcome == TransferOutcome.UNKNOWN
            and self.first_sent_at is not None
            and timezone.now() - self.first_sent_at < RETRY_WINDOW
        )

    @property
    def balance_after(self) -> Decimal | None:
        if self.balance_before is None:
            return None
        return self.balance_before - self.amount

    def execute(self, user) -> CreditTransfer:
        """Send this transfer to the provider, once; see `transfers.execute_transfer`."""
        from .transfers import execute_transfer

        return execute_transfer(self, user)


class TransferCustomer(models.Model):
    """A customer account known to receive transfers from one of our accounts, offered on the
    transfer form. Remembered when a transfer to it is done; Managers may add one in the admin;
    the demo knows the sandbox's customers. The provider has no way to list them."""

    account = models.ForeignKey(
        ProviderAccount, on_delete=models.CASCADE, related_name="transfer_customers"
    )
    username = models.CharField("customer username", max_length=100)
    label = models.CharField(max_length=100, blank=True, help_text="Who it is, for the list.")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["account", "username"]
        constraints = [
            models.UniqueConstraint(fields=["account", "username"], name="transfer_customer_unique")
        ]

    def __str__(self) -> str:
        return f"{self.username} ({self.label})" if self.label else self.username
