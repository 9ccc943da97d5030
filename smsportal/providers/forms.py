from __future__ import annotations

from django import forms

from .models import ProviderAccount


class ProviderAccountForm(forms.ModelForm):
    """Create or edit an account. The password is write-only: never rendered back, and left
    unchanged when the field is submitted empty."""

    password = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Leave empty to keep the current password.",
    )

    class Meta:
        model = ProviderAccount
        fields = [
            "name",
            "kind",
            "base_url",
            "username",
            "password",
            "price_per_segment",
            "max_parts",
            "low_balance_threshold",
            "allows_credit",
            "ip_allowlist",
            "is_active",
        ]
        widgets = {"ip_allowlist": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.fields["password"].required = True
            self.fields["password"].help_text = ""

    def clean_ip_allowlist(self) -> str:
        import ipaddress

        value = self.cleaned_data["ip_allowlist"]
        for line in value.splitlines():
            if line.strip():
                try:
                    ipaddress.ip_network(line.strip(), strict=False)
                except ValueError:
                    raise forms.ValidationError(
                        f"{line.strip()!r} is not an IP address or network."
                    ) from None
        return value

    def save(self, commit: bool = True) -> ProviderAccount:
        account = super().save(commit=False)
        if self.cleaned_data.get("password"):
            account.password = self.cleaned_data["password"]
        if commit:
            account.save()
        return account
