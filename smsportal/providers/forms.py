"""The account form (the portal's page and the admin share it).

Each backend declares its own options (`Backend.settings_fields()`); the form adds every kind's
fields under the kind's name (`kwtsms__transport`), validates only the chosen kind's and stores
them in `ProviderAccount.options`. A field a backend adds later appears here by itself.
"""

from __future__ import annotations

import copy
import ipaddress
import json
from collections.abc import Iterator
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django import forms
from django.core.validators import validate_email
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import endpoints
from .models import ProviderAccount
from .registry import PROVIDERS, backend_class

SEPARATOR = "__"


def option_field_name(kind: str, name: str) -> str:
    return f"{kind}{SEPARATOR}{name}"


def is_secret(field: forms.Field) -> bool:
    return isinstance(field.widget, forms.PasswordInput)


def storable(value: Any) -> Any:
    """A cleaned value as JSON can hold it (options live in a JSONField)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list | tuple | set):
        return [storable(v) for v in value]
    if hasattr(value, "pk"):
        return value.pk
    return value


class ProviderAccountForm(forms.ModelForm):
    """Create or edit an account. The password is write-only: never rendered back, and left
    unchanged when the field is submitted empty, except when the address moves to another host:
    the new host will receive the password, so whoever moves it must type it again."""

    password = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        label=_("Password"),
        help_text=_("Leave empty to keep the current password."),
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
            "low_balance_emails",
            "allows_credit",
            "ip_allowlist",
            "is_active",
        ]
        widgets = {
            "ip_allowlist": forms.Textarea(attrs={"rows": 2}),
            "low_balance_emails": forms.Textarea(attrs={"rows": 2}),
        }
        # The model's words are English only; the page says them in the reader's language
        # (here rather than on the model: no migration for words only this form shows).
        labels = {
            "name": _("Name"),
            "kind": _("Kind"),
            "base_url": _("Base URL"),
            "username": _("Username"),
            "price_per_segment": _("Price per segment"),
            "max_parts": _("Max parts"),
            "low_balance_threshold": _("Low balance threshold"),
            "low_balance_emails": _("Low-balance alert addresses"),
            "allows_credit": _("Allows credit"),
            "ip_allowlist": _("IP allow-list"),
            "is_active": _("Active"),
        }
        help_texts = {
            "price_per_segment": _("Credits charged per SMS segment, for estimates."),
            "max_parts": _("The most segments one message may use on this account."),
            "low_balance_threshold": _(
                "Warn on the dashboard and compose page when the balance falls below this."
            ),
            "low_balance_emails": _(
                "E-mail addresses (one per line) told once each time the balance falls below "
                "the low-balance warning; again only after it has been back above it."
            ),
            "allows_credit": _(
                "The provider lets this account go below zero, so a Manager may send past "
                "the balance."
            ),
            "ip_allowlist": _(
                "Addresses allowed to call this account's webhooks, one per line; empty allows any."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.is_bound:
            self.data = self._with_option_defaults(self.data)
        if not self.instance.pk:
            self.fields["password"].required = True
            self.fields["password"].help_text = ""
        # The page's script shows the chosen kind's real address as the placeholder.
        self.fields["kind"].widget.attrs["data-provider-kind"] = json.dumps(
            {kind: backend_class(kind).default_base_url for kind in PROVIDERS}
        )
        self.fields["base_url"].help_text = _(
            "Leave empty for the provider's real service. SMS Centre takes smpp://host:port. "
            "Only public hosts are accepted (and the ones an administrator allows)."
        )
        self.chosen_kind = (self.data.get("kind") if self.is_bound else None) or (
            self.instance.kind if self.instance.pk else ""
        )
        self.option_fields: dict[str, list[str]] = {}
        stored = self.instance.options or {}
        for kind in PROVIDERS:
            names = []
            for name, field in backend_class(kind).settings_fields().items():
                field = copy.deepcopy(field)
                key = option_field_name(kind, name)
                field.widget.attrs["data-provider-option"] = kind
                if field.label is None:  # not "Kwtsms  transport" from the prefixed name
                    field.label = name.replace("_", " ").capitalize()
                if kind != self.chosen_kind:
                    # Only the chosen kind's options are validated and stored.
                    field.required = False
                if is_secret(field):
                    field.widget = forms.PasswordInput(
                        render_value=False,
                        attrs={**field.widget.attrs, "autocomplete": "new-password"},
                    )
                    if kind == self.instance.kind and stored.get(name):
                        field.required = False
                        field.help_text = " ".join(
                            filter(
                                None,
                                [
                                    str(field.help_text),
                                    gettext("Leave empty to keep the current one."),
                                ],
                            )
                        )
                elif kind == self.instance.kind and name in stored:
                    self.initial[key] = stored[name]
                self.fields[key] = field
                names.append(key)
            self.option_fields[kind] = names

    @staticmethod
    def _with_option_defaults(data):
        """An option missing from the request altogether (a client that predates it) takes its
        default, as the empty form would have offered it; one submitted empty stays empty."""
        kind = data.get("kind")
        if kind not in PROVIDERS:
            return data
        missing = {
            option_field_name(kind, name): field.initial
            for name, field in backend_class(kind).settings_fields().items()
            if field.initial is not None
            and not isinstance(field, forms.BooleanField)
            and option_field_name(kind, name) not in data
        }
        if not missing:
            return data
        data = data.copy()
        for key, value in missing.items():
            data[key] = value
        return data

    # --- rendering ------------------------------------------------------------------------------

    def main_fields(self) -> list[forms.BoundField]:
        options = {key for names in self.option_fields.values() for key in names}
        return [self[name] for name in self.fields if name not in options]

    def option_groups(self) -> Iterator[dict]:
        """One group of option fields per kind (possibly none, then only a hint)."""
        for kind, names in self.option_fields.items():
            yield {
                "kind": kind,
                "label": PROVIDERS[kind][0],
                "fields": [self[name] for name in names],
                "chosen": kind == self.chosen_kind,
                "hint": KIND_HINTS.get(kind, ""),
            }

    # --- validation -----------------------------------------------------------------------------

    def clean_ip_allowlist(self) -> str:
        value = self.cleaned_data["ip_allowlist"]
        lines = []
        for line in value.splitlines():
            if line.strip():
                try:
                    ipaddress.ip_network(line.strip(), strict=False)
                except ValueError:
                    raise forms.ValidationError(
                        gettext("“%(line)s” is not an IP address or network.")
                        % {"line": line.strip()}
                    ) from None
                lines.append(line.strip())
        return "\n".join(lines)

    def clean_low_balance_emails(self) -> str:
        """One address a line (commas and spaces split too), each checked, duplicates once."""
        addresses: list[str] = []
        for address in self.cleaned_data["low_balance_emails"].replace(",", " ").split():
            try:
                validate_email(address)
            except forms.ValidationError:
                raise forms.ValidationError(
                    gettext("“%(address)s” is not an e-mail address.") % {"address": address}
                ) from None
            if address.lower() not in (known.lower() for known in addresses):
                addresses.append(address)
        return "\n".join(addresses)

    def clean(self):
        data = super().clean()
        if data.get("low_balance_emails") and data.get("low_balance_threshold") is None:
            self.add_error(
                "low_balance_threshold",
                gettext("Set the balance below which these addresses are told."),
            )
        # Options of the kinds not chosen are neither validated nor kept.
        for kind, names in self.option_fields.items():
            if kind != data.get("kind"):
                for name in names:
                    self._errors.pop(name, None)
                    data.pop(name, None)
        kind, url = data.get("kind"), data.get("base_url", "").strip()
        if kind and url:
            try:
                endpoints.validate_base_url(url, kind)
            except forms.ValidationError as exc:
                self.add_error("base_url", exc)
        if kind and "base_url" in data:
            data["base_url"] = url
            self._check_password_follows_host(kind, url)
        return data

    def _check_password_follows_host(self, kind: str, url: str) -> None:
        if not self.instance.pk or self.cleaned_data.get("password"):
            return
        old = self.instance.base_url or backend_class(self.instance.kind).default_base_url
        new = url or backend_class(kind).default_base_url
        if endpoints.host_of(old) != endpoints.host_of(new):
            self.add_error(
                "password",
                gettext(
                    "The address now points at another host, which will receive this password: "
                    "type the password again to confirm."
                ),
            )

    # --- saving ---------------------------------------------------------------------------------

    def options_for(self, kind: str) -> dict[str, Any]:
        """The chosen kind's options as the backend stores them (`options_from_form`: a secret
        left empty keeps the stored one), in a form JSON can hold."""
        previous = (self.instance.options or {}) if kind == self.instance.kind else {}
        cleaned = {
            key.split(SEPARATOR, 1)[1]: self.cleaned_data.get(key)
            for key in self.option_fields.get(kind, [])
        }
        options = backend_class(kind).options_from_form(cleaned, previous)
        return {name: storable(value) for name, value in options.items()}

    def save(self, commit: bool = True) -> ProviderAccount:
        account = super().save(commit=False)
        if self.cleaned_data.get("password"):
            account.password = self.cleaned_data["password"]
        account.options = self.options_for(account.kind)
        if commit:
            account.save()
        return account


# Where a kind's standard fields mean something particular, said once beside its options.
KIND_HINTS = {
    "smscentre": _(
        "For SMS Centre the address is smpp://host:port; the username is the bind's "
        "system_id and the password the bind's password."
    ),
    "intellisoftware": _("IntelliSoftware has no options beyond the username and password."),
}
