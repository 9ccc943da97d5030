from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from smsportal.contacts.scope import own_lists

from .models import Confirmations, KeywordRule


class KeywordRuleForm(forms.ModelForm):
    def __init__(self, *args, user, **kwargs):
        """The lists offered are those `user` may change (their departments')."""
        super().__init__(*args, **kwargs)
        for name in ("add_to_list", "remove_from_list"):
            self.fields[name].queryset = own_lists(user)

    class Meta:
        model = KeywordRule
        fields = [
            "account",
            "keyword",
            "match",
            "reply",
            "add_to_list",
            "remove_from_list",
            "forward_to",
            "is_active",
        ]
        widgets = {"reply": forms.Textarea(attrs={"rows": 3, "dir": "auto"})}
        labels = {"account": _("Account"), "keyword": _("Keyword"), "match": _("Match")}
        help_texts = {
            "keyword": _(
                "Compared without regard to case, accents or Arabic letter forms. "
                "STOP, START and HELP are answered by the account's confirmations."
            ),
            "match": _(
                "First word: “<bdi>JOIN me please</bdi>” matches <bdi>JOIN</bdi>. Whole message: "
                "only “<bdi>JOIN</bdi>”."
            ),
            "reply": _("Sent back through the same account. Leave empty for no reply."),
        }


class ConfirmationsForm(forms.ModelForm):
    class Meta:
        model = Confirmations
        fields = [
            "stop_text",
            "stop_text_arabic",
            "start_text",
            "start_text_arabic",
            "help_text",
            "help_text_arabic",
            "window_minutes",
            "daily_limit",
        ]
        widgets = {
            name: forms.Textarea(attrs={"rows": 2, "dir": "auto"})
            for name in fields
            if name.endswith(("_text", "_arabic"))
        }
        help_texts = {
            "stop_text": _(
                "The one message a number gets after it opts out, once per opt-out. "
                "Empty: no confirmation."
            ),
            "window_minutes": _(
                "A number gets at most one automatic reply in this time, so two "
                "automatic responders never answer each other for ever."
            ),
        }
