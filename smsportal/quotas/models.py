"""Quotas: how much a department may send, per provider account or over all accounts together,
and what it has used in each period.

A `Quota` holds up to three limits (parts a day, parts a month, credit a month) and a warning
threshold. `Usage` is one counter per quota and period (a day, a month): the send path raises it
with a conditional UPDATE (`services.reserve`), so two sends at once cannot both take the last
parts. `Hold` says which message took how much from which counter, so what never leaves (a
cancelled send, parts that fail before they reach anyone) is given back exactly.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from smsportal.departments.models import Department
from smsportal.providers.models import ProviderAccount


class Quota(models.Model):
    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, related_name="quotas", verbose_name=_("department")
    )
    # None: one quota for everything the department sends, whatever the account.
    account = models.ForeignKey(
        ProviderAccount,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="quotas",
        verbose_name=_("account"),
        help_text=_("All accounts together: one quota over every account."),
    )
    parts_per_day = models.PositiveIntegerField(
        _("parts a day"), null=True, blank=True, help_text=_("Empty: no daily limit.")
    )
    parts_per_month = models.PositiveIntegerField(
        _("parts a month"), null=True, blank=True, help_text=_("Empty: no monthly limit.")
    )
    credit_per_month = models.DecimalField(
        _("credit a month"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Empty: no limit on credit."),
    )
    warn_at_percent = models.PositiveSmallIntegerField(
        _("warn at (percent)"),
        default=80,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("The department's Managers get an e-mail when usage reaches this share."),
    )
    alert_emails = models.TextField(
        _("also e-mail"),
        blank=True,
        help_text=_("More addresses for the warning, one per line (optional)."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["department__name", "account__name"]
        verbose_name = _("quota")
        verbose_name_plural = _("quotas")
        constraints = [
            models.UniqueConstraint(
                fields=["department", "account"],
                condition=Q(account__isnull=False),
                name="quota_one_per_department_account",
                violation_error_message=_("This department already has a quota for this account."),
            ),
            models.UniqueConstraint(
                fields=["department"],
                condition=Q(account__isnull=True),
                name="quota_one_per_department_all_accounts",
                violation_error_message=_("This department already has a quota over all accounts."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.department} · {self.scope}"

    @property
    def scope(self) -> str:
        return self.account.name if self.account_id else str(_("all accounts"))

    def clean(self) -> None:
        if (
            self.parts_per_day is None
            and self.parts_per_month is None
            and self.credit_per_month is None
        ):
            raise ValidationError(
                _("Set at least one limit: parts a day, parts a month or credit a month.")
            )

    def limits(self, period: str) -> dict[str, int | Decimal]:
        """The limits that apply in `period`: {"parts": n, "credit": amount}, set ones only."""
        if period == Usage.Period.DAY:
            found = {"parts": self.parts_per_day}
        else:
            found = {"parts": self.parts_per_month, "credit": self.credit_per_month}
        return {metric: limit for metric, limit in found.items() if limit is not None}

    @property
    def periods(self) -> list[str]:
        return [period for period in Usage.Period.values if self.limits(period)]

    @property
    def extra_recipients(self) -> list[str]:
        return self.alert_emails.split()


class Usage(models.Model):
    """What a quota's department used in one period; counted when a send is accepted."""

    class Period(models.TextChoices):
        DAY = "day", _("day")
        MONTH = "month", _("month")

    quota = models.ForeignKey(Quota, on_delete=models.CASCADE, related_name="usage")
    period = models.CharField(max_length=5, choices=Period.choices)
    starts = models.DateField()  # the day, or the first of the month
    parts = models.PositiveBigIntegerField(default=0)
    credit = models.DecimalField(max_digits=16, decimal_places=4, default=Decimal("0"))
    # Claimed by a conditional UPDATE when usage crosses the warning (one e-mail per crossing);
    # cleared when released usage falls back below it.
    warned_parts = models.BooleanField(default=False)
    warned_credit = models.BooleanField(default=False)

    class Meta:
        ordering = ["-starts", "period"]
        verbose_name = _("usage")
        verbose_name_plural = _("usage")
        constraints = [
            models.UniqueConstraint(
                fields=["quota", "period", "starts"], name="usage_one_per_quota_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.quota} {self.period} {self.starts}"


class Hold(models.Model):
    """What one message took from one usage counter (message_id, not a key: quotas sit below
    messaging in the layers)."""

    usage = models.ForeignKey(Usage, on_delete=models.CASCADE, related_name="holds")
    message_id = models.PositiveBigIntegerField(db_index=True)
    parts = models.PositiveBigIntegerField()
    credit = models.DecimalField(max_digits=16, decimal_places=4)

    def __str__(self) -> str:
        return f"message {self.message_id}: {self.parts} parts"
