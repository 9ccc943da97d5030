"""A daily summary of deliveries, kept up to date as statuses change, so dashboards and charts
read a few hundred rows instead of scanning millions of deliveries."""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from smsportal.sms.status import DeliveryStatus


class DailyDeliveryStats(models.Model):
    """How many deliveries queued on `day` through `account` are now in `status` (queued counts
    queued and sending alike), and what they cost; `reason` is the error code of failures."""

    day = models.DateField()
    account = models.ForeignKey("providers.ProviderAccount", on_delete=models.CASCADE)
    status = models.CharField(max_length=12, choices=DeliveryStatus.choices)
    reason = models.CharField(max_length=40, blank=True, default="")
    count = models.BigIntegerField(default=0)
    cost = models.DecimalField(max_digits=18, decimal_places=4, default=Decimal("0"))

    class Meta:
        verbose_name_plural = "daily delivery stats"
        constraints = [
            models.UniqueConstraint(
                fields=["day", "account", "status", "reason"], name="daily_stats_key"
            )
        ]
        indexes = [models.Index(fields=["day", "account"], name="daily_stats_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.account_id} {self.status}: {self.count}"
