"""Saved texts with placeholders: Managers write them, everyone who sends picks them in Compose
(and may change the text there before sending)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from smsportal.sms.encoding import STANDARD, analyse
from smsportal.sms.placeholders import parse


@dataclass(frozen=True)
class Shape:
    """A template's parts and alphabet before recipients are known: counted on the text with
    each placeholder's fallback (or nothing) in its place. Names make it longer, so this is the
    least; the compose preview counts each recipient's own text."""

    segments: int
    label: str
    personal: bool

    def __str__(self) -> str:
        figures = {"count": f"{self.segments:,}", "alphabet": self.label}
        if self.personal:
            return (
                ngettext(
                    "%(count)s part or more, %(alphabet)s (before names are filled in)",
                    "%(count)s parts or more, %(alphabet)s (before names are filled in)",
                    self.segments,
                )
                % figures
            )
        return (
            ngettext("%(count)s part, %(alphabet)s", "%(count)s parts, %(alphabet)s", self.segments)
            % figures
        )


class MessageTemplate(models.Model):
    # Whose template this is (message_templates/scope.py); empty: the whole organisation's.
    department = models.ForeignKey(
        "departments.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="message_templates",
        verbose_name=_("department"),
    )
    name = models.CharField(max_length=100)
    text = models.TextField()
    # Offered for this account only (its alphabet counts the parts); empty: for every account.
    account = models.ForeignKey(
        "providers.ProviderAccount", null=True, blank=True, on_delete=models.SET_NULL
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "message template"
        constraints = [
            models.UniqueConstraint(
                fields=["department", "name"],
                name="template_name_unique",
                violation_error_message=_("This department has a template of this name."),
            ),
            models.UniqueConstraint(
                fields=["name"],
                condition=models.Q(department__isnull=True),
                name="template_name_unique_no_department",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("message_templates:edit", args=[self.pk])

    @property
    def shape(self) -> Shape:
        template = parse(self.text)
        profile = self.account.backend.encoding_profile if self.account else STANDARD
        analysis = analyse(template.render({}).text, profile)
        return Shape(analysis.segments, analysis.label, template.is_personal)
