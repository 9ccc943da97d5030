from __future__ import annotations

import ipaddress
from datetime import datetime, time

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _

from smsportal.departments.forms import DepartmentField

from .models import ApiKey, Scope


class ApiKeyForm(forms.Form):
    """A new key: its name, what it may do, until when, and from where."""

    name = forms.CharField(
        label=_("Name"),
        max_length=80,
        help_text=_("What uses the key, e.g. “Billing system”. Shown on its messages."),
    )
    department = DepartmentField(
        help_text=gettext_lazy(
            "The key sends for this department and sees only its contacts and messages."
        )
    )
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        label=_("Scopes"),
        help_text=_("A key never does more than your own role allows."),
    )
    expires_on = forms.DateField(
        required=False,
        label=_("Expires on"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Optional. The key stops working at the start of that day."),
    )
    allowed_addresses = forms.CharField(
        required=False,
        label=_("Allowed client addresses"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Optional. One IP address or network per line (e.g. 10.0.0.0/24); empty: any address."
        ),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["department"].limit_to(user)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if ApiKey.objects.filter(user=self.user, name=name).exists():
            raise forms.ValidationError(_("You already have a key with this name."))
        return name

    def clean_expires_on(self):
        day = self.cleaned_data["expires_on"]
        if day and day <= timezone.localdate():
            raise forms.ValidationError(_("Choose a day after today."))
        return day

    def clean_allowed_addresses(self) -> str:
        lines = [line.strip() for line in self.cleaned_data["allowed_addresses"].splitlines()]
        lines = [line for line in lines if line]
        for line in lines:
            try:
                ipaddress.ip_network(line, strict=False)
            except ValueError:
                raise forms.ValidationError(
                    _("“%(line)s” is not an IP address or network.") % {"line": line}
                ) from None
        return "\n".join(lines)

    def issue(self) -> tuple[ApiKey, str]:
        data = self.cleaned_data
        expires_at = None
        if data["expires_on"]:
            expires_at = timezone.make_aware(datetime.combine(data["expires_on"], time.min))
        return ApiKey.issue(
            self.user,
            data["name"],
            data["scopes"],
            department=data["department"],
            expires_at=expires_at,
            allowed_addresses=data["allowed_addresses"],
        )
