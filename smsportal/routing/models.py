"""Prices per destination and the routes that choose an account for each recipient.

A price row and a route's destinations are number prefixes (digits of the E.164 number without
the "+"); a country is stored as its calling code, with the country named for reading. The
longest matching prefix wins; an account's own `price_per_segment` is the price of everything
its table does not name.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from smsportal.providers.models import ProviderAccount


class DestinationPrice(models.Model):
    account = models.ForeignKey(
        ProviderAccount, on_delete=models.CASCADE, related_name="destination_prices"
    )
    prefix = models.CharField(_("prefix"), max_length=15)  # digits, no "+"
    country = models.CharField(_("country"), max_length=2, blank=True)  # ISO code, when given
    price_per_part = models.DecimalField(
        _("price per part"),
        max_digits=10,
        decimal_places=4,
        validators=[MinValueValidator(Decimal("0"))],
    )

    class Meta:
        ordering = ["account", "prefix"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "prefix"],
                name="one_price_per_prefix",
                violation_error_message=_("This account already has a price for that prefix."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.account} +{self.prefix}: {self.price_per_part}"


class Strategy(models.TextChoices):
    ORDERED = "ordered", _("The accounts in this order")
    CHEAPEST = "cheapest", _("The cheapest account that can carry it")


class Alphabet(models.TextChoices):
    ANY = "", _("Any alphabet")
    STANDARD = "gsm", _("Standard characters")
    UNICODE = "unicode", _("Unicode (Arabic, emoji, ...)")


class Route(models.Model):
    """One rule: which recipients it takes (every condition left empty matches anything) and
    where they go. Rules are tried by `position`; the first that matches a recipient wins."""

    position = models.PositiveIntegerField(default=0)
    name = models.CharField(_("name"), max_length=100)
    destinations = models.CharField(
        _("destinations"),
        max_length=2000,
        blank=True,
        help_text=_(
            "Countries (KW) or number prefixes (+96597), separated by spaces or commas; "
            "empty matches every number."
        ),
    )
    message_type = models.CharField(_("message type"), max_length=16, blank=True)
    alphabet = models.CharField(_("alphabet"), max_length=8, blank=True, choices=Alphabet.choices)
    sender = models.CharField(
        _("sender ID"), max_length=32, blank=True, help_text=_("Empty matches every sender.")
    )
    strategy = models.CharField(
        _("send through"), max_length=16, choices=Strategy.choices, default=Strategy.ORDERED
    )
    accounts = models.ManyToManyField(
        ProviderAccount, through="RouteAccount", related_name="routes", verbose_name=_("accounts")
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class RouteAccount(models.Model):
    route = models.ForeignKey(Route, on_delete=models.CASCADE, related_name="steps")
    account = models.ForeignKey(ProviderAccount, on_delete=models.CASCADE)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["route", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["route", "account"], name="account_once_per_route")
        ]

    def __str__(self) -> str:
        return f"{self.route}: {self.account}"


class AccountRouting(models.Model):
    """An account's routing settings and its circuit breaker."""

    account = models.OneToOneField(
        ProviderAccount, on_delete=models.CASCADE, primary_key=True, related_name="routing"
    )
    default_sender = models.CharField(
        _("default sender ID for routed messages"),
        max_length=32,
        blank=True,
        help_text=_(
            "Used when a route sends a message here whose sender ID this account does not "
            "have. Empty: such recipients are refused."
        ),
    )
    # Consecutive attempts that failed before the request left; reset by any answer.
    not_sent_failures = models.PositiveIntegerField(default=0)
    out_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return str(self.account)
