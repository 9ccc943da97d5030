"""The forms of a mail merge from a file (messaging/views/mail_merge.py)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from smsportal.contacts.uploads import max_upload_bytes

from .forms import ComposeForm


def too_big(size: int) -> str:
    return _("The file is %(size)s MB or more; the limit is %(limit)s MB. Split it.") % {
        "size": f"{size / 2**20:,.0f}",
        "limit": f"{settings.IMPORT_MAX_UPLOAD_MB:,}",
    }


class MergeUploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("File"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _(
            "CSV (any common delimiter and encoding) or XLSX, up to %(limit)s MB: a column of "
            "phone numbers and any others, one row per recipient."
        ) % {"limit": f"{settings.IMPORT_MAX_UPLOAD_MB:,}"}
        # static/js/contacts.js refuses a bigger file before it is sent.
        self.fields["file"].widget.attrs.update(
            {
                "accept": ".csv,.txt,.tsv,.xlsx",
                "data-max-bytes": str(max_upload_bytes()),
                "data-too-big": too_big(max_upload_bytes() + 1),
            }
        )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size == 0:
            raise forms.ValidationError(_("The file is empty."))
        if upload.size > max_upload_bytes():
            raise forms.ValidationError(too_big(upload.size))
        return upload


class MailMergeForm(ComposeForm):
    """Compose's account, sender, text and time, with the file's phone column in place of the
    recipients. Plain text messages only: placeholders need a text."""

    phone_column = forms.TypedChoiceField(
        label=gettext_lazy("Phone column"), coerce=int, empty_value=None, required=True
    )

    def __init__(self, header: list[str], *args, user=None, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        for name in (
            "recipients",
            "lists",
            "flash",
            "message_type",
            "binary_udh",
            "barcode_format",
        ):
            del self.fields[name]
        self.fields["text"].label = _("Message")
        self.fields["phone_column"].choices = [
            ("", _("Choose the column of phone numbers…")),
            *(
                (str(i), title or _("(column %(n)s)") % {"n": i + 1})
                for i, title in enumerate(header)
            ),
        ]
        self.fields["phone_column"].error_messages["required"] = _(
            "Choose the column that holds the phone numbers."
        )
