from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from smsportal.providers.models import ProviderAccount

from .models import SenderID, SenderSource, SenderStatus
from .validation import validate_sender


class SenderIDForm(forms.ModelForm):
    """Add or edit a sender ID. The value is checked against the account's provider rules; the
    account of an existing sender, and the value of one the provider reported, stay fixed.

    The form never retires one: retiring goes through Retire (`views.sender_retire`), whose
    confirmation shows what still uses the sender ID first. A sender ID already retired keeps
    every status, so it can be brought back (to active) here."""

    class Meta:
        model = SenderID
        fields = ["account", "value", "status", "note"]
        labels = {
            "account": _("Account"),
            "value": _("Sender ID"),
            "status": _("Status"),
            "note": _("Note"),
        }
        help_texts = {
            "value": _(
                "A phone number in international digits (e.g. 96597119440) or a name of at "
                "most 11 characters."
            ),
            "status": _("Pending: requested from the provider and not yet approved."),
        }
        error_messages = {
            "status": {
                "invalid_choice": _(
                    "Choose one of the statuses listed. To retire it, use Retire on the list: "
                    "it shows what still uses it first."
                )
            }
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = ProviderAccount.objects.filter(is_active=True)
        if self.instance.pk:
            self.fields["account"].disabled = True
            self.fields["account"].queryset = ProviderAccount.objects.all()
            if self.instance.source == SenderSource.SYNCED:
                self.fields["value"].disabled = True
                self.fields["value"].help_text = _("Reported by the provider; cannot be renamed.")
        if self.instance.status != SenderStatus.RETIRED:
            self._leave_out_retired()

    def _leave_out_retired(self) -> None:
        """Saving Retired here would retire without the confirmation (and quietly drop the
        account's default), so a new sender ID, or one not yet retired, is offered every status
        but Retired."""
        status = self.fields["status"]
        status.choices = [
            (value, label) for value, label in status.choices if value != SenderStatus.RETIRED
        ]
        if self.instance.pk:
            status.help_text = _(
                "Pending: requested from the provider and not yet approved. To retire it, use "
                "Retire on the list: it shows what still uses it first."
            )

    def clean(self) -> dict:
        cleaned = super().clean()
        account = cleaned.get("account")
        value = cleaned.get("value")
        if account and value:
            try:
                self.instance.kind = validate_sender(account.kind, value)
            except forms.ValidationError as error:
                self.add_error("value", error)
        return cleaned

    def save(self, commit: bool = True) -> SenderID:
        sender = super().save(commit=False)
        if not sender.pk:
            sender.source = SenderSource.STAFF
        if sender.status != SenderStatus.ACTIVE:
            sender.is_default = False
        if commit:
            sender.save()
        return sender
