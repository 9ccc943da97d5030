from __future__ import annotations

import uuid

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from smsportal.providers.models import ProviderAccount

from .balances import available_balance
from .models import TransferCustomer


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
        label=gettext_lazy("From account"),
        queryset=ProviderAccount.objects.none(),
        empty_label=None,
    )
    customer = forms.CharField(
        label=gettext_lazy("Customer username"),
        max_length=100,
        help_text=gettext_lazy(
            "Their username at the provider: the account that receives the credits."
        ),
        widget=forms.TextInput(attrs={"list": "known-customers", "autocomplete": "off"}),
    )
    # Above zero is checked in clean_amount, not by a min_value of 0.0001: Django's words for
    # that ("greater than or equal to 0.0001") tell a Manager who typed -3 nothing plain, and
    # would also be said of 0.00001, which is above zero (its fifth decimal is what is wrong).
    amount = forms.DecimalField(
        label=gettext_lazy("Credits"),
        max_digits=14,
        decimal_places=4,
        widget=forms.NumberInput(attrs={"min": "0.0001"}),
    )
    token = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("token", uuid.uuid4())
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = ProviderAccount.objects.filter(
            pk__in=[a.pk for a in transfer_accounts()]
        )

    def known_customers(self):
        """Customers the form offers (a datalist: another username may still be typed)."""
        return TransferCustomer.objects.filter(
            account__in=self.fields["account"].queryset
        ).select_related("account")

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount <= 0:
            raise forms.ValidationError(
                _("Enter an amount greater than zero."), code="not_positive"
            )
        return amount

    def clean(self):
        data = super().clean()
        account, amount = data.get("account"), data.get("amount")
        if account is None or amount is None:
            return data
        # The provider's own rules, checked here so the page never offers a transfer it will
        # refuse: whole credits where the provider takes no fractions, and no more than the
        # balance (the confirmation checks again against a fresh balance).
        step = getattr(account.backend_class, "transfer_step", None)
        if step and amount % step:
            below, above = amount // step * step, (amount // step + 1) * step
            if below:
                choice = _("%(below)s or %(above)s") % {
                    "below": f"{below:,.0f}",
                    "above": f"{above:,.0f}",
                }
            else:
                choice = _("%(above)s or more") % {"above": f"{above:,.0f}"}
            self.add_error(
                "amount",
                _("%(provider)s transfers whole credits only: enter %(choice)s.")
                % {"provider": account.get_kind_display(), "choice": choice},
            )
            return data
        current = available_balance(account)
        if current.available is not None and amount > current.available:
            taken = timezone.localtime(current.snapshot.taken_at)
            self.add_error(
                "amount",
                _(
                    "%(account)s has %(available)s credits available (as of %(taken)s); "
                    "this transfer needs %(amount)s."
                )
                % {
                    "account": account,
                    "available": f"{current.available:,.2f}",
                    "taken": f"{taken:%Y-%m-%d %H:%M}",
                    "amount": f"{amount:,.2f}",
                },
            )
        return data

    def clean_customer(self) -> str:
        customer = self.cleaned_data["customer"].strip()
        if not customer:
            raise forms.ValidationError(_("Enter the customer's username."))
        if any(c.isspace() for c in customer):
            raise forms.ValidationError(_("A username has no spaces."))
        return customer
