from __future__ import annotations

import json

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms.models import ModelChoiceIterator
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _

from smsportal.contacts.list_choices import offer_department_lists
from smsportal.contacts.models import ContactList
from smsportal.contacts.scope import not_for, not_for_error
from smsportal.core.field_copies import fields_copied_cheaply
from smsportal.core.prepared import Prepared
from smsportal.departments.forms import DepartmentField
from smsportal.providers.models import ProviderAccount
from smsportal.senders.selectors import unusable
from smsportal.senders.validation import validate_sender

from . import idempotency, message_types

AUTOMATIC = "auto"  # the account choice that lets the routes (smsportal.routing) decide


def cleaned_lists(cleaned: dict):
    """The lists chosen on a cleaned form, nothing when none was. Django's field cleans "none
    chosen" to `queryset.none()`, and asking whether that is empty compiled its query (as dear as
    running one) on every preview, to learn what `is_empty()` says at once."""
    lists = cleaned.get("lists")
    if not isinstance(lists, QuerySet):
        return lists or []
    return [] if lists.query.is_empty() else lists


class AccountsWithAutomatic(ModelChoiceIterator):
    def __iter__(self):
        yield from super().__iter__()
        yield (AUTOMATIC, gettext_lazy("Automatic (by the routes)"))

    def __len__(self) -> int:
        return super().__len__() + 1


LARGEST_ID = 2**63 - 1


class AccountOrAutomaticField(forms.ModelChoiceField):
    """An account, or "Automatic" (cleaned to None: each recipient's account is then chosen
    by the routes). `lookup`, if given, finds an account of the queryset by its id (a Prepared
    query selecting what the queryset selects): the compose preview asks on every keystroke."""

    iterator = AccountsWithAutomatic

    def __init__(self, queryset, *, lookup: Prepared | None = None, **kwargs):
        super().__init__(queryset, **kwargs)
        self.lookup = lookup

    def clean(self, value):
        if value == AUTOMATIC:
            return None
        return super().clean(value)

    def to_python(self, value):
        if not (self.lookup and isinstance(value, str) and value.isascii() and value.isdigit()):
            return super().to_python(value)  # Django's lookup, its errors included
        found = self.lookup(int(value)) if 0 < int(value) <= LARGEST_ID else []
        if not found:
            raise ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            )
        return found[0]


# The active account the compose form names, read afresh each time (core/prepared.py).
active_account = Prepared(lambda pk: ProviderAccount.objects.filter(is_active=True, pk=pk), int)


# Built on every keystroke of the live preview: its fields are copied without copy.deepcopy's
# generic machinery (core/field_copies.py), a tenth of the preview's floor.
@fields_copied_cheaply
class ComposeForm(forms.Form):
    """What staff fill in to send. Nothing here is sent until the confirmation step."""

    account = AccountOrAutomaticField(
        ProviderAccount.objects.filter(is_active=True), empty_label=None, lookup=active_account
    )
    # Whose message it is (a select if the user has several departments, fixed if one).
    department = DepartmentField(
        required=False,
        help_text=gettext_lazy("The message counts against this department's quota."),
    )
    sender = forms.CharField(label=_("Sender ID"), max_length=20, required=False)
    recipients = forms.CharField(
        label=_("Numbers"),
        required=False,
        widget=forms.Textarea(
            attrs={
                "rows": 3,
                "placeholder": _("One per line, or separated by commas or semicolons"),
                # Numbers read left to right on an Arabic page too (+965…, not …965+).
                "dir": "ltr",
            }
        ),
    )
    lists = forms.ModelMultipleChoiceField(
        ContactList.objects.all(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
        label=_("Lists"),
        help_text=_("Everyone on these lists; a contact on several lists gets one message."),
    )
    text = forms.CharField(
        label=_("Message"),
        strip=False,
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "autofocus": True, "dir": "auto"}),
    )
    flash = forms.BooleanField(
        label=_("Flash"),
        required=False,
        help_text=_("Shown at once on the screen, not stored (where supported)."),
    )
    # The kind of message (templates/messaging/_message_type.html); only the kinds the chosen
    # account's provider supports are accepted.
    message_type = forms.ChoiceField(
        label=_("Message type"),
        choices=[(kind, label) for kind, (label, _help) in message_types.KINDS.items()],
        initial=message_types.TEXT,
        required=False,
        widget=forms.RadioSelect,
    )
    binary_udh = forms.BooleanField(
        label=_("The octets start with a user data header (UDH)"),
        required=False,
        initial=True,
        help_text=_("The first octet gives the header's length, as for ringtones and logos."),
    )
    barcode_format = forms.ChoiceField(
        label=_("Barcode format (MsgType)"),
        choices=[("", _("Choose…")), *message_types.BARCODE_FORMATS],
        required=False,
    )
    scheduled_for = forms.DateTimeField(
        label=_("Send at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("Empty: send now."),
    )
    # One per form: a double click or a second tab finds the message already created. The
    # browser posts it back, so it becomes a key only under the person's prefix (idempotency.py).
    token = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("token", idempotency.new_token())
        # The lists offered: the chosen department's and the shared ones; accepted: any the
        # person may see, another department's then refused below with the reason. Without a
        # person (the API's form), the caller has checked the lists (api/serializers.py).
        self.offered_lists = self.fields["lists"].queryset
        self.chosen_department = None
        if user is not None:
            self.fields["department"].limit_to(user)
            self.chosen_department = self.fields["department"].chosen(self["department"].value())
            self.offered_lists = offer_department_lists(self, user, self.chosen_department)

    def types_by_account(self) -> dict[str, list[str]]:
        """For the page's script: which kinds each account offers (the server checks again)."""
        kinds = {
            str(account.pk): message_types.available(account.backend.capabilities)
            for account in self.fields["account"].queryset
        }
        # Automatic: every kind some account offers (the routes refuse who cannot get it).
        kinds[AUTOMATIC] = sorted({kind for offered in kinds.values() for kind in offered})
        return kinds

    @property
    def automatic(self) -> bool:
        """The routes choose each recipient's account."""
        return self.is_bound and self.data.get("account") == AUTOMATIC

    def types_json(self) -> str:
        return json.dumps(self.types_by_account())

    def kind_choices(self) -> list[dict]:
        """The kinds for the template: value, label, help, and whether chosen."""
        return [
            {"value": kind, "label": label, "help": help_text, "checked": kind == self.kind}
            for kind, (label, help_text) in message_types.KINDS.items()
        ]

    @property
    def kind(self) -> str:
        """The chosen kind; the older "flash" box still means a flash message."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        kind = data.get("message_type") or self.data.get("message_type") or message_types.TEXT
        if kind == message_types.TEXT and (data.get("flash") or self.data.get("flash")):
            return message_types.FLASH
        return kind if kind in message_types.KINDS else message_types.TEXT

    def type_options(self) -> dict:
        """The keyword arguments of `sending.prepare` that say what kind of message this is."""
        kind = self.kind
        return {
            "message_type": message_types.message_type(kind),
            "want_delivery_report": kind != message_types.NO_REPORT,
            "binary_udh": bool(self.cleaned_data.get("binary_udh")),
            "barcode_format": self.cleaned_data.get("barcode_format", "")
            if kind == message_types.BARCODE
            else "",
        }

    def clean_type_fields(self, data: dict) -> None:
        account, kind = data.get("account"), self.kind
        if account and kind not in message_types.available(account.backend.capabilities):
            label = str(message_types.KINDS[kind][0]).lower()
            self.add_error(
                "message_type",
                _("%(account)s cannot send %(type)s messages; choose another type or account.")
                % {"account": account, "type": label},
            )
        if kind == message_types.BINARY:
            try:
                message_types.parse_binary(data.get("text", ""), bool(data.get("binary_udh")))
            except ValueError as exc:
                self.add_error("text", str(exc))
        if kind == message_types.BARCODE and not data.get("barcode_format"):
            self.add_error("barcode_format", _("Choose the barcode format (MsgType)."))

    def clean(self):
        data = super().clean()
        self.clean_type_fields(data)
        for chosen in not_for(data.get("department"), cleaned_lists(data)):
            self.add_error("lists", not_for_error(data.get("department"), chosen))
        account, sender = data.get("account"), data.get("sender")
        if account and sender and not account.backend_class.capabilities.sender_per_message:
            self.add_error(
                "sender",
                _(
                    "%(account)s cannot choose a sender ID per message: it sends from the "
                    "account's default sender."
                )
                % {"account": account},
            )
        elif account and sender:
            # Says which: retired, rejected, waiting for approval, or no sender ID of the account.
            if problem := unusable(account, sender):
                self.add_error("sender", problem.warning)
            else:
                try:
                    validate_sender(account.kind, sender)
                except forms.ValidationError as exc:
                    self.add_error("sender", exc)
        return data

    def clean_scheduled_for(self):
        when = self.cleaned_data.get("scheduled_for")
        if when and when <= timezone.now():
            raise forms.ValidationError(_("Choose a time in the future, or leave it empty."))
        return when

    def clean_token(self):
        return idempotency.clean_token(self.cleaned_data.get("token"))
