from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from smsportal.core.audit import EVENTS

from .labels import kind_name


class ObjectTypeField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return kind_name(obj)


class AuditFilterForm(forms.Form):
    """The audit page's filters; every one optional, all combined."""

    user = forms.ModelChoiceField(
        queryset=get_user_model().objects.order_by("username"),
        required=False,
        empty_label=_("Anyone"),
        to_field_name="username",
        label=_("User"),
    )
    action = forms.ChoiceField(
        choices=[("", _("Any action")), *EVENTS.items()], required=False, label=_("Action")
    )
    object_type = ObjectTypeField(
        queryset=ContentType.objects.none(),
        required=False,
        empty_label=_("Any kind"),
        label=_("Object type"),
    )
    object = forms.CharField(
        required=False,
        max_length=100,
        label=_("Object"),
        help_text=_("Its id, or words of its name."),
    )
    since = forms.DateField(
        required=False, label=_("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        required=False, label=_("To"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, object_types: QuerySet | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if object_types is not None:
            self.fields["object_type"].queryset = object_types

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            raise forms.ValidationError(_("“From” is after “To”."))
        return data

    def apply(self, entries: QuerySet, not_after: datetime | None = None) -> QuerySet:
        """`entries` narrowed by the valid filters (an invalid form narrows nothing) and to
        `not_after` (a page's cursor) if given. The time gets one upper bound, the tighter of
        `not_after` and “To”: given both, a database walks its index down from the one it
        picks, and if that is “To”, it reads every entry between them to reach the page."""
        if not self.is_valid():
            return entries.filter(timestamp__lte=not_after) if not_after else entries
        data = self.cleaned_data
        if data["user"]:
            entries = entries.filter(actor=data["user"])
        if data["action"]:
            entries = entries.filter(event=data["action"])
        if data["object_type"]:
            entries = entries.filter(content_type=data["object_type"])
        if data["object"]:
            words = data["object"].strip()
            query = Q(object_repr__icontains=words)
            if words.isdigit():
                query |= Q(object_pk=words)
            entries = entries.filter(query)
        zone = timezone.get_current_timezone()
        if data["since"]:
            entries = entries.filter(
                timestamp__gte=datetime.combine(data["since"], time.min, tzinfo=zone)
            )
        end = None
        if data["until"]:
            end = datetime.combine(data["until"] + timedelta(days=1), time.min, tzinfo=zone)
        if not_after is not None and (end is None or not_after < end):
            entries = entries.filter(timestamp__lte=not_after)
        elif end is not None:
            entries = entries.filter(timestamp__lt=end)
        return entries
