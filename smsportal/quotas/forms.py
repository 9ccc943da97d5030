from __future__ import annotations

from datetime import timedelta

from django import forms
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from smsportal.core.words import listed
from smsportal.departments.models import Department
from smsportal.providers.models import ProviderAccount

from .models import Quota


class QuotaForm(forms.ModelForm):
    class Meta:
        model = Quota
        fields = [
            "department",
            "account",
            "parts_per_day",
            "parts_per_month",
            "credit_per_month",
            "warn_at_percent",
            "alert_emails",
        ]
        widgets = {"alert_emails": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # A Manager sets quotas for their own departments only (a superuser for every one).
        departments = Department.objects.of(user)
        self.fields["department"].queryset = departments
        if not self.instance.pk and len(departments) == 1:
            self.initial.setdefault("department", departments[0].pk)
        self.fields["account"].queryset = ProviderAccount.objects.order_by("name")
        self.fields["account"].empty_label = _("All accounts together")

    def clean_alert_emails(self) -> str:
        addresses = self.cleaned_data["alert_emails"].split()
        bad = []
        for address in addresses:
            try:
                validate_email(address)
            except forms.ValidationError:
                bad.append(address)
        if bad:
            raise forms.ValidationError(
                _("Not an e-mail address: %(addresses)s") % {"addresses": listed(bad)}
            )
        return "\n".join(addresses)


MAX_DAYS = 366


class RangeForm(forms.Form):
    """The export's dates; empty means the last 30 days. (reports has the same form, but reports
    sits above the send path and quotas below it.)"""

    since = forms.DateField(required=False)
    until = forms.DateField(required=False)

    def clean(self):
        data = super().clean()
        until = data.get("until") or timezone.localdate()
        since = data.get("since") or until - timedelta(days=29)
        if since > until:
            raise forms.ValidationError(_("The start date is after the end date."))
        if (until - since).days >= MAX_DAYS:
            raise forms.ValidationError(
                _("Choose a range of at most %(days)s days.") % {"days": MAX_DAYS}
            )
        data.update(since=since, until=until)
        return data
