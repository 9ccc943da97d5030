from __future__ import annotations

import secrets

from django import forms
from django.utils import timezone

from smsportal.contacts.models import ContactList
from smsportal.providers.models import ProviderAccount
from smsportal.senders.selectors import active_sender_ids
from smsportal.senders.validation import validate_sender


class ComposeForm(forms.Form):
    """What staff fill in to send. Nothing here is sent until the confirmation step."""

    account = forms.ModelChoiceField(
        ProviderAccount.objects.filter(is_active=True), empty_label=None
    )
    sender = forms.CharField(label="Sender ID", max_length=20, required=False)
    recipients = forms.CharField(
        label="Numbers",
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": "One per line, or separated by commas or semicolons"}
        ),
    )
    lists = forms.ModelMultipleChoiceField(
        ContactList.objects.all(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
        help_text="Everyone on these lists; a contact on several lists gets one message.",
    )
    text = forms.CharField(
        strip=False, required=False, widget=forms.Textarea(attrs={"rows": 6, "autofocus": True})
    )
    flash = forms.BooleanField(
        required=False, help_text="Shown at once on the screen, not stored (where supported)."
    )
    scheduled_for = forms.DateTimeField(
        label="Send at",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Empty: send now.",
    )
    # One per form: a double click or a second tab finds the message already created.
    token = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("token", secrets.token_urlsafe(24))

    def clean(self):
        data = super().clean()
        account, sender = data.get("account"), data.get("sender")
        if account and sender and not account.backend_class.capabilities.sender_per_message:
            self.add_error(
                "sender",
                f"{account} cannot choose a sender ID per message: it sends from the account's "
                "default sender.",
            )
        elif account and sender:
            values = set(active_sender_ids(account).values_list("value", flat=True))
            if sender not in values:
                self.add_error("sender", f"{sender} is not an active sender ID of {account}.")
            else:
                try:
                    validate_sender(account.kind, sender)
                except forms.ValidationError as exc:
                    self.add_error("sender", exc)
        return data

    def clean_scheduled_for(self):
        when = self.cleaned_data.get("scheduled_for")
        if when and when <= timezone.now():
            raise forms.ValidationError("Choose a time in the future, or leave it empty.")
        return when

    def clean_token(self):
        return self.cleaned_data.get("token") or secrets.token_urlsafe(24)
