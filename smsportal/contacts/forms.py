from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from smsportal.departments.forms import DepartmentField
from smsportal.sms.phones import parse_phone
from smsportal.sms.placeholders import STANDARD_FIELDS

from .models import Contact, ContactField, ContactList, ImportJob, OptOut, header_form
from .reading import ENCODINGS, encoding_label, is_text_encoding
from .uploads import max_upload_bytes, too_big


class PhoneField(forms.CharField):
    """A phone number as a person types it, cleaned to E.164 (or refused with the reason)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault(
            "help_text",
            gettext_lazy(
                "With + or 00 and the country code; without, it is read as a local number."
            ),
        )
        kwargs.setdefault("label", gettext_lazy("Phone"))
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return value
        parsed = parse_phone(value, settings.PHONE_DEFAULT_REGION)
        if not parsed.valid:
            raise forms.ValidationError(
                _("“%(value)s” is not a phone number: %(error)s.")
                % {"value": value, "error": parsed.error}
            )
        return parsed.e164


FIELD_PREFIX = "field_"


class ContactForm(forms.ModelForm):
    """A contact's standard fields and one text box per custom field (kept in `attributes`)."""

    phone = PhoneField()
    department = DepartmentField()

    class Meta:
        model = Contact
        fields = ["department", "phone", "name", "email"]
        labels = {"name": gettext_lazy("Name"), "email": gettext_lazy("Email")}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].limit_to(user)
        self.custom_fields = list(ContactField.objects.all())
        attributes = self.instance.attributes or {}
        for custom in self.custom_fields:
            self.fields[FIELD_PREFIX + custom.key] = forms.CharField(
                label=custom.label,
                required=False,
                max_length=500,
                initial=attributes.get(custom.key, ""),
                help_text=_("In messages: %(placeholder)s") % {"placeholder": custom.placeholder},
            )

    def save(self, commit=True):
        attributes = dict(self.instance.attributes or {})
        for custom in self.custom_fields:
            value = self.cleaned_data.get(FIELD_PREFIX + custom.key, "").strip()
            if value:
                attributes[custom.key] = value
            else:
                attributes.pop(custom.key, None)
        self.instance.attributes = attributes
        return super().save(commit)


class ContactFieldForm(forms.ModelForm):
    """Adding a field (key and label) or renaming one (the label only: the key is in saved
    texts)."""

    # A plain text box: the model's slug check would allow "-" and say "slug" to staff.
    key = forms.CharField(max_length=40, required=False)

    class Meta:
        model = ContactField
        fields = ["label", "key"]
        labels = {"label": gettext_lazy("Label"), "key": gettext_lazy("Key")}
        help_texts = {"label": gettext_lazy("What staff see, e.g. “City”.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["key"].required = False
        self.fields["key"].label = gettext_lazy("Key")
        self.fields["key"].help_text = _(
            "Written in messages as {key}; lower-case letters, digits and _. Left empty, it is "
            "made from the label."
        )
        if self.instance.pk:
            del self.fields["key"]

    def clean_key(self):
        key = self.cleaned_data.get("key", "") or slug_key(self.cleaned_data.get("label", ""))
        if not key:
            raise forms.ValidationError(
                _("Give a key of letters, digits and _ (the label has none to make it from).")
            )
        if not key[0].isalpha() or not all(c.isascii() and (c.isalnum() or c == "_") for c in key):
            raise forms.ValidationError(
                _("“%(key)s” cannot be a key: start with a letter; use only letters, digits and _.")
                % {"key": key}
            )
        key = key.lower()
        if key in STANDARD_FIELDS:
            raise forms.ValidationError(
                _("“%(key)s” is a standard field already; choose another key.") % {"key": key}
            )
        if ContactField.objects.filter(key=key).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("A field with the key “%(key)s” exists.") % {"key": key})
        return key

    def clean_label(self):
        label = self.cleaned_data["label"].strip()
        if header_form(label) in {header_form(k) for k in STANDARD_FIELDS} | {
            header_form(v) for v in STANDARD_FIELDS.values()
        }:
            raise forms.ValidationError(
                _("“%(label)s” is a standard field already.") % {"label": label}
            )
        return label


def slug_key(label: str) -> str:
    """A key made from a label: "Loyalty tier" → "loyalty_tier" (ASCII letters and digits)."""
    import re
    import unicodedata

    ascii_label = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    key = re.sub(r"[^a-z0-9]+", "_", ascii_label.lower()).strip("_")
    return key[:40]


class ContactListForm(forms.ModelForm):
    department = DepartmentField()

    class Meta:
        model = ContactList
        fields = ["department", "name", "description", "shared"]
        labels = {
            "name": gettext_lazy("Name"),
            "description": gettext_lazy("Description"),
            "shared": gettext_lazy("Shared with every department"),
        }
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].limit_to(user)


class OptOutForm(forms.ModelForm):
    phone = PhoneField()

    class Meta:
        model = OptOut
        fields = ["phone", "note"]
        labels = {"note": gettext_lazy("Note")}

    def validate_unique(self):
        # An existing opt-out is fine: the view keeps it and says so.
        pass


class BulkForm(forms.Form):
    ACTIONS = [
        ("add", gettext_lazy("Add to list")),
        ("remove", gettext_lazy("Remove from list")),
        ("delete", gettext_lazy("Delete")),
    ]

    action = forms.ChoiceField(choices=ACTIONS)
    contacts = forms.ModelMultipleChoiceField(
        queryset=Contact.objects.none(),
        error_messages={"required": gettext_lazy("Tick at least one contact first.")},
    )
    contact_list = forms.ModelChoiceField(queryset=ContactList.objects.none(), required=False)

    def __init__(self, *args, contacts, lists, **kwargs):
        """`contacts`, `lists`: those the person may change (contacts/scope.py); an id of
        another department's is "not a valid choice"."""
        super().__init__(*args, **kwargs)
        self.fields["contacts"].queryset = contacts
        self.fields["contact_list"].queryset = lists

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") in ("add", "remove") and not cleaned.get("contact_list"):
            self.add_error("contact_list", _("Choose the list."))
        return cleaned


class ImportForm(forms.Form):
    # The file comes last in the form, so last in the request: an upload stopped at the size
    # limit leaves every other field read, and the form can say only what is wrong.
    department = DepartmentField(
        help_text=gettext_lazy("The contacts are this department's (and the new list).")
    )
    contact_list = forms.ModelChoiceField(
        queryset=ContactList.objects.none(), required=False, label=gettext_lazy("Add to list")
    )
    new_list = forms.CharField(
        max_length=100, required=False, label=gettext_lazy("…or a new list named")
    )
    region = forms.CharField(
        label=gettext_lazy("Region"),
        max_length=2,
        initial=lambda: settings.PHONE_DEFAULT_REGION,
        help_text=gettext_lazy("Country of numbers written without + or 00 (ISO code, e.g. KW)."),
    )
    mode = forms.ChoiceField(
        label=gettext_lazy("Mode"),
        choices=[
            (ImportJob.Mode.UPDATE, gettext_lazy("update existing contacts")),
            (ImportJob.Mode.SKIP, gettext_lazy("skip existing contacts")),
        ],
        initial=ImportJob.Mode.UPDATE,
    )
    dry_run = forms.BooleanField(
        required=False, label=gettext_lazy("Dry run: check and count, change nothing")
    )
    file = forms.FileField(label=gettext_lazy("File"))

    def __init__(self, *args, user, lists, **kwargs):
        """`lists`: those the person may add contacts to (contacts/scope.py own_lists)."""
        super().__init__(*args, **kwargs)
        self.fields["department"].limit_to(user)
        self.fields["contact_list"].queryset = lists
        self.fields["file"].help_text = _(
            "CSV (any common delimiter and encoding) or XLSX, up to %(size)s MB. You see its "
            "first rows before it is imported."
        ) % {"size": f"{settings.IMPORT_MAX_UPLOAD_MB:,}"}
        # static/js/contacts.js refuses a bigger file before it is sent.
        self.fields["file"].widget.attrs.update(
            {
                "accept": ".csv,.txt,.tsv,.xlsx",
                "data-max-bytes": str(max_upload_bytes()),
                "data-too-big": _(
                    "This file is over the %(size)s MB limit. Split it, or import it with "
                    "manage.py import_contacts."
                )
                % {"size": f"{settings.IMPORT_MAX_UPLOAD_MB:,}"},
            }
        )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size == 0:
            raise forms.ValidationError(_("The file is empty."))
        if upload.size > max_upload_bytes():
            raise forms.ValidationError(too_big(upload.size))
        return upload

    def clean_region(self):
        region = self.cleaned_data["region"].upper()
        import phonenumbers

        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise forms.ValidationError(
                _("“%(region)s” is not a country code phonenumbers knows.") % {"region": region}
            )
        return region

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("contact_list") and cleaned.get("new_list"):
            self.add_error("new_list", _("Choose a list or name a new one, not both."))
        name = cleaned.get("new_list")
        chosen = cleaned.get("contact_list")
        department = cleaned.get("department")
        if chosen and department and chosen.department_id not in (None, department.pk):
            self.add_error(
                "contact_list",
                _("“%(list)s” is another department's list: choose one of %(department)s.")
                % {"list": chosen, "department": department},
            )
        if name and ContactList.objects.filter(name=name, department=department).exists():
            self.add_error(
                "new_list", _("A list named “%(name)s” exists: choose it above.") % {"name": name}
            )
        return cleaned


class ImportStartForm(forms.Form):
    """The preview's choice: the encoding to read the file in (as found, or another)."""

    # Empty: a spreadsheet, or "as found" (the import detects it again).
    encoding = forms.ChoiceField(label=gettext_lazy("Read the file as"), required=False)

    def __init__(self, *args, detected: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        choices = dict(ENCODINGS)
        if detected and detected not in choices:
            choices[detected] = encoding_label(detected)
        self.fields["encoding"].choices = [
            (
                code,
                _("%(label)s (found in the file)") % {"label": label}
                if code == detected
                else label,
            )
            for code, label in choices.items()
        ]
        if detected:
            self.fields["encoding"].initial = detected

    def clean_encoding(self):
        encoding = self.cleaned_data["encoding"]
        if encoding and not is_text_encoding(encoding):
            raise forms.ValidationError(f"“{encoding}” is not an encoding this portal knows.")
        return encoding
