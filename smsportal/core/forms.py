from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .locale import time_zones
from .models import Preference


def _language_choices() -> list[tuple[str, str]]:
    return [("", _("The browser's language")), *settings.LANGUAGES]


def _time_zone_choices() -> list[tuple[str, str]]:
    server = settings.TIME_ZONE
    return [("", _("The server's time zone (%(zone)s)") % {"zone": server})] + [
        (name, name) for name in time_zones()
    ]


class PreferenceForm(forms.ModelForm):
    language = forms.ChoiceField(label=_("Language"), choices=_language_choices, required=False)
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=_time_zone_choices,
        required=False,
        help_text=_("Dates and times on every page are shown in this time zone."),
        # IANA names (Asia/Kuwait) are identifiers, the same in every language.
        widget=forms.Select(attrs={"translate": "no", "dir": "ltr"}),
    )

    class Meta:
        model = Preference
        fields = ["language", "time_zone", "digits"]
        labels = {"digits": _("Digits")}
        help_texts = {"digits": _("How numbers are written on your pages.")}
