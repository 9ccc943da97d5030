from __future__ import annotations

from django import forms
from django.conf import settings

from .models import Contact, ContactList, ImportJob, OptOut
from .phones import parse_phone

MAX_UPLOAD = 200 * 1024 * 1024  # bytes; a million-row CSV is about 40 MB


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
    file = forms.FileField(help_text="CSV (any common delimiter and encoding) or XLSX.")
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

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size == 0:
            raise forms.ValidationError("The file is empty.")
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError(
                f"The file is {upload.size / 2**20:.0f} MB; the limit is {MAX_UPLOAD // 2**20} MB. "
                "Split it, or import it with manage.py import_contacts."
            )
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
