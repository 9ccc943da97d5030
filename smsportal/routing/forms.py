from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from smsportal.providers.backends.base import MessageType
from smsportal.providers.models import ProviderAccount

from .destinations import BadDestination, parse_destination, parse_destinations
from .models import Route
from .price_import import parse_price


def type_choices():
    return [
        (MessageType.TEXT, _("Text")),
        (MessageType.FLASH, _("Flash")),
        (MessageType.VOICE, _("Voice")),
        (MessageType.BINARY, _("Binary")),
        (MessageType.BARCODE, _("Barcode")),
    ]


class PriceForm(forms.Form):
    destination = forms.CharField(
        label=_("Destination"),
        max_length=40,
        help_text=_("A country (KW) or a number prefix (+96597)."),
        widget=forms.TextInput(attrs={"dir": "ltr", "autocomplete": "off"}),
    )
    price = forms.CharField(
        label=_("Price per part"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "dir": "ltr"}),
    )

    def clean_destination(self):
        try:
            return parse_destination(self.cleaned_data["destination"])
        except BadDestination as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_price(self) -> Decimal:
        try:
            return parse_price(self.cleaned_data["price"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc


class PriceFileForm(forms.Form):
    file = forms.FileField(
        label=_("Price file (CSV)"),
        help_text=_(
            "Two columns: destination (KW or +96597) and price per part. The file replaces "
            "the whole table; a file with any bad line is refused."
        ),
    )


MAX_ROUTE_ACCOUNTS = 5


class RouteForm(forms.ModelForm):
    """A route, with up to five accounts in order (one select each: order matters)."""

    class Meta:
        model = Route
        fields = ["name", "destinations", "message_type", "alphabet", "sender", "strategy"]
        widgets = {"destinations": forms.TextInput(attrs={"dir": "ltr"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["message_type"] = forms.ChoiceField(
            label=_("Message type"), required=False, choices=[("", _("Any type")), *type_choices()]
        )
        accounts = ProviderAccount.objects.order_by("name")
        chosen = (
            list(self.instance.steps.values_list("account_id", flat=True))
            if self.instance.pk
            else []
        )
        for n in range(MAX_ROUTE_ACCOUNTS):
            self.fields[f"account_{n}"] = forms.ModelChoiceField(
                accounts,
                required=n == 0,
                label=_("Account %(n)s") % {"n": n + 1},
                empty_label=_("(none)"),
                initial=chosen[n] if n < len(chosen) else None,
            )

    def clean_destinations(self):
        text = self.cleaned_data["destinations"]
        try:
            parse_destinations(text)
        except BadDestination as exc:
            raise forms.ValidationError(str(exc)) from exc
        return " ".join(text.replace(",", " ").split())

    def chosen_accounts(self) -> list:
        found = []
        for n in range(MAX_ROUTE_ACCOUNTS):
            account = self.cleaned_data.get(f"account_{n}")
            if account and account not in found:
                found.append(account)
        return found

    def clean(self):
        cleaned = super().clean()
        picked = [cleaned.get(f"account_{n}") for n in range(MAX_ROUTE_ACCOUNTS)]
        picked = [a for a in picked if a]
        if len(picked) != len(set(picked)):
            raise forms.ValidationError(_("An account is named twice in this route."))
        return cleaned


class DryRunForm(forms.Form):
    phone = forms.CharField(
        label=_("Number"), max_length=40, widget=forms.TextInput(attrs={"dir": "ltr"})
    )
    text = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 2, "dir": "auto"}))
    message_type = forms.ChoiceField(label=_("Message type"), choices=(), required=False)
    sender = forms.CharField(label=_("Sender ID"), max_length=32, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["message_type"].choices = type_choices()


class AccountRoutingForm(forms.Form):
    default_sender = forms.CharField(
        label=_("Default sender ID for routed messages"), max_length=32, required=False
    )
