from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .delivery import check_url
from .models import Endpoint


class EndpointForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")

    class Meta:
        model = Endpoint
        fields = ["name", "url", "on_incoming", "on_status", "on_done", "accounts", "is_active"]
        widgets = {"accounts": forms.CheckboxSelectMultiple}
        labels = {"name": _("Name"), "accounts": _("Accounts")}
        help_texts = {
            "url": _(
                "Where the portal posts each event as JSON, signed (see the documentation). "
                "A public https address."
            ),
        }

    def clean_url(self) -> str:
        url = self.cleaned_data["url"].strip()
        try:
            check_url(url)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None
        return url

    def clean(self):
        data = super().clean()
        if not any(data.get(f) for f in ("on_incoming", "on_status", "on_done")):
            raise ValidationError(_("Choose at least one kind of event to forward."))
        return data
