from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from smsportal.contacts.models import ContactList
from smsportal.contacts.scope import lists_of, own_lists

from .models import Confirmations, KeywordRule
from .outcomes import ANOTHER_DEPARTMENTS_LIST

LIST_ACTIONS = ("add_to_list", "remove_from_list")


class KeywordRuleForm(forms.ModelForm):
    def __init__(self, *args, user, **kwargs):
        """The lists offered are those `user` may change (their departments'). A rule is the
        organisation's, but a list only its department's: a list action another department
        set stays as it is (shown, not offered), named only when `user` may see the list."""
        super().__init__(*args, **kwargs)
        mine = own_lists(user)
        for name in LIST_ACTIONS:
            field = self.fields[name]
            field.queryset = mine
            kept = getattr(self.instance, f"{name}_id")
            if kept is not None and not mine.filter(pk=kept).exists():
                _keep_as_set(field, kept, named=lists_of(user).filter(pk=kept).exists())

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


def _keep_as_set(field: forms.ModelChoiceField, list_id: int, *, named: bool) -> None:
    """Keep the list another department chose: saving the rule leaves it (a select without it
    would have dropped it), and another list cannot be put in its place."""
    field.queryset = ContactList.objects.filter(pk=list_id)
    field.disabled = True
    if not named:
        field.label_from_instance = lambda _list: str(ANOTHER_DEPARTMENTS_LIST)
    field.help_text = _("Another department's list: only that department can change this.")


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
