"""What a person chooses for themselves: the language, time zone and digits of their pages."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Digits(models.TextChoices):
    LATIN = "latin", _("Latin (0123456789)")
    ARABIC = "arabic", _("Arabic-Indic (٠١٢٣٤٥٦٧٨٩)")


class Preference(models.Model):
    """One row per user who has chosen something; a user without one gets the browser's
    language, the server's time zone and Latin digits."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference"
    )
    # Blank: the browser's language. A code no longer in LANGUAGES reads as English
    # (smsportal.core.locale.user_language), never as an error page.
    language = models.CharField(_("language"), max_length=10, blank=True)
    # Blank: the server's TIME_ZONE. An IANA name, e.g. Asia/Kuwait.
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    digits = models.CharField(
        _("digits"), max_length=10, choices=Digits.choices, default=Digits.LATIN
    )

    class Meta:
        verbose_name = _("preference")
        verbose_name_plural = _("preferences")

    def __str__(self) -> str:
        return str(self.user)
