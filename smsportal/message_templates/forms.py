from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from smsportal.departments.forms import DepartmentField
from smsportal.messaging.personal import placeholder_problems
from smsportal.providers.models import ProviderAccount

from .models import MessageTemplate


def check_placeholders(text: str) -> None:
    """Refuse a text that cannot be read or names a field no contact has, with the reason."""
    problems = placeholder_problems(text)
    if problems:
        raise forms.ValidationError(problems)


class MessageTemplateForm(forms.ModelForm):
    department = DepartmentField()

    class Meta:
        model = MessageTemplate
        fields = ["department", "name", "account", "text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 6, "dir": "auto"})}
        error_messages = {"text": {"required": _("The text is empty.")}}
        labels = {"name": _("Name"), "account": _("Account"), "text": _("Text")}
        help_texts = {
            "account": _("Offer it with this account only; empty: with every account."),
            "text": _(
                "Placeholders: {first_name}, {name}, {phone} or any contact field; "
                "{first_name|Customer} writes “Customer” where there is no first name; {{ writes "
                "a brace."
            ),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].limit_to(user)
        self.fields["account"].queryset = ProviderAccount.objects.filter(is_active=True)
        self.fields["account"].empty_label = _("Any account")

    def clean_text(self):
        text = self.cleaned_data["text"]
        if not text.strip():
            raise forms.ValidationError(_("The text is empty."))
        check_placeholders(text)
        return text
