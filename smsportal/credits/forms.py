from __future__ import annotations

import uuid
from decimal import Decimal

from django import forms

from smsportal.providers.models import ProviderAccount


def transfer_accounts() -> list[ProviderAccount]:
    """Active accounts whose provider can transfer credit (ISMS)."""
    return [
        a
        for a in ProviderAccount.objects.filter(is_active=True)
        if a.backend_class.capabilities.transfer
    ]


class TransferForm(forms.Form):
    """A transfer to be confirmed. `token` is issued with the empty form and makes a second
    submission of the same form find the transfer the first one created."""

    account = forms.ModelChoiceField(
        label="From account", queryset=ProviderAccount.objects.none(), empty_label=None
    )
    customer = forms.CharField(
        label="Customer username",
        max_length=100,
        help_text="The provider's username of the account that receives the credits.",
    )
    amount = forms.DecimalField(
        label="Credits", max_digits=14, decimal_places=4, min_value=Decimal("0.0001")
    )
    token = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("token", uuid.uuid4())
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = ProviderAccount.objects.filter(
            pk__in=[a.pk for a in transfer_accounts()]
        )

    def clean_customer(self) -> str:
        customer = self.cleaned_data["customer"].strip()
        if not customer:
            raise forms.ValidationError("Enter the customer's username.")
        if any(c.isspace() for c in customer):
            raise forms.ValidationError("A username has no spaces.")
        return customer
