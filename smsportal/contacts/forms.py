from __future__ import annotations

from django import forms
from django.conf import settings

from smsportal.sms.phones import parse_phone

from .models import Contact, ContactList, ImportJob, OptOut
from .reading import ENCODINGS, encoding_label, is_text_encoding
from .uploads import max_upload_bytes, too_big


class PhoneField(forms.CharField):
    """A phone number as a person types it, cleaned to E.164 (or refused with the reason)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault(
            "help_text", "With + or 00 and the country code; without, it is read as a local number."
        )
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return value
        parsed = parse_phone(value, settings.PHONE_DEFAULT_REGION)
        if not parsed.valid:
            raise forms.ValidationError(f"“{value}” is not a phone number: {parsed.error}.")
        return parsed.e164


class ContactForm(forms.ModelForm):
    phone = PhoneField()

    class Meta:
        model = Contact
        fields = ["phone", "name", "email"]


class ContactListForm(forms.ModelForm):
    class Meta:
        model = ContactList
        fields = ["name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class OptOutForm(forms.ModelForm):
    phone = PhoneField()

    class Meta:
        model = OptOut
        fields = ["phone", "note"]

    def validate_unique(self):
        # An existing opt-out is fine: the view keeps it and says so.
        pass


class BulkForm(forms.Form):
    ACTIONS = [("add", "Add to list"), ("remove", "Remove from list"), ("delete", "Delete")]

    action = forms.ChoiceField(choices=ACTIONS)
    contacts = forms.ModelMultipleChoiceField(queryset=Contact.objects.all())
    contact_list = forms.ModelChoiceField(queryset=ContactList.objects.all(), required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") in ("add", "remove") and not cleaned.get("contact_list"):
            self.add_error("contact_list", "Choose the list.")
        return cleaned


class ImportForm(forms.Form):
    # The file comes last in the form, so last in the request: an upload stopped at the size
    # limit leaves every other field read, and the form can say only what is wrong.
    contact_list = forms.ModelChoiceField(
        queryset=ContactList.objects.all(), required=False, label="Add to list"
    )
    new_list = forms.CharField(max_length=100, required=False, label="…or a new list named")
    region = forms.CharField(
        max_length=2,
        initial=lambda: settings.PHONE_DEFAULT_REGION,
        help_text="Country of numbers written without + or 00 (ISO code, e.g. KW).",
    )
    mode = forms.ChoiceField(choices=ImportJob.Mode.choices, initial=ImportJob.Mode.UPDATE)
    dry_run = forms.BooleanField(required=False, label="Dry run: check and count, change nothing")
    file = forms.FileField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = (
            "CSV (any common delimiter and encoding) or XLSX, up to "
            f"{settings.IMPORT_MAX_UPLOAD_MB:,} MB. You see its first rows before it is imported."
        )
        # static/js/contacts.js refuses a bigger file before it is sent.
        self.fields["file"].widget.attrs.update(
            {
                "accept": ".csv,.txt,.tsv,.xlsx",
                "data-max-bytes": str(max_upload_bytes()),
                "data-too-big": f"This file is over the {settings.IMPORT_MAX_UPLOAD_MB:,} MB "
                "limit. Split it, or import it with manage.py import_contacts.",
            }
        )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size == 0:
            raise forms.ValidationError("The file is empty.")
        if upload.size > max_upload_bytes():
            raise forms.ValidationError(too_big(upload.size))
        return upload

    def clean_region(self):
        region = self.cleaned_data["region"].upper()
        import phonenumbers

        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise forms.ValidationError(f"“{region}” is not a country code phonenumbers knows.")
        return region

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("contact_list") and cleaned.get("new_list"):
            self.add_error("new_list", "Choose a list or name a new one, not both.")
        name = cleaned.get("new_list")
        if name and ContactList.objects.filter(name=name).exists():
            self.add_error("new_list", f"A list named “{name}” exists: choose it above.")
        return cleaned


class ImportStartForm(forms.Form):
    """The preview's choice: the encoding to read the file in (as found, or another)."""

    # Empty: a spreadsheet, or "as found" (the import detects it again).
    encoding = forms.ChoiceField(label="Read the file as", required=False)

    def __init__(self, *args, detected: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        choices = dict(ENCODINGS)
        if detected and detected not in choices:
            choices[detected] = encoding_label(detected)
        self.fields["encoding"].choices = [
            (code, f"{label} (found in the file)" if code == detected else label)
            for code, label in choices.items()
        ]
        if detected:
            self.fields["encoding"].initial = detected

    def clean_encoding(self):
        encoding = self.cleaned_data["encoding"]
        if encoding and not is_text_encoding(encoding):
            raise forms.ValidationError(f"“{encoding}” is not an encoding this portal knows.")
        return encoding
