from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import two_factor


class CodeForm(forms.Form):
    """A code from the authenticator app, or (where allowed) a recovery code."""

    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "spellcheck": "false"}),
    )

    def __init__(self, *args, recovery_allowed: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.recovery_allowed = recovery_allowed
        if self.prefix is None:  # the one form of its page (the profile page has two)
            self.fields["code"].widget.attrs["autofocus"] = True
        if recovery_allowed:
            self.fields["code"].help_text = _(
                "The 6-digit code your authenticator app shows now, or one of your recovery codes."
            )
        else:
            self.fields["code"].help_text = _("The 6-digit code your authenticator app shows now.")
            self.fields["code"].widget.attrs["inputmode"] = "numeric"

    def clean_code(self) -> str:
        code = two_factor.normalise(self.cleaned_data["code"])
        if not self.recovery_allowed and not two_factor.is_app_code(code):
            raise forms.ValidationError(_("Type the 6 digits your authenticator app shows."))
        if not code.isalnum():
            raise forms.ValidationError(_("A code has only letters and digits."))
        return code
