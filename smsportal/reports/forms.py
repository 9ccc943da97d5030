from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from smsportal.providers.models import ProviderAccount
from smsportal.sms.status import DeliveryStatus

MAX_DAYS = 366
DEFAULT_DAYS = 30


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None  # the form reports the bad date itself


class RangeForm(forms.Form):
    """A date range and an account; empty means the last 30 days, every account."""

    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    account = forms.ModelChoiceField(
        ProviderAccount.objects.all(), required=False, empty_label=_("All accounts")
    )

    @classmethod
    def of(cls, query) -> RangeForm:
        """The form for a query string, its empty dates filled in with the range that will be
        used, so the date boxes always show the range the page reports on."""
        data = query.copy()
        until = _date(data.get("until")) or timezone.localdate()
        if not data.get("until"):
            data["until"] = until.isoformat()
        if not data.get("since"):
            data["since"] = (until - timedelta(days=DEFAULT_DAYS - 1)).isoformat()
        return cls(data)

    def clean(self):
        data = super().clean()
        until = data.get("until") or timezone.localdate()
        since = data.get("since") or until - timedelta(days=DEFAULT_DAYS - 1)
        if since > until:
            raise forms.ValidationError(_("The start date is after the end date."))
        if (until - since).days >= MAX_DAYS:
            raise forms.ValidationError(
                _("Choose a range of at most %(days)s days.") % {"days": MAX_DAYS}
            )
        data.update(since=since, until=until)
        return data


class ExportForm(RangeForm):
    status = forms.ChoiceField(
        choices=[("", "Any status"), *DeliveryStatus.choices], required=False
    )
    message = forms.IntegerField(required=False, min_value=1, label="Message #")
