from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy, ngettext
from django.utils.translation import gettext_lazy as _

from smsportal.contacts.list_choices import offer_department_lists
from smsportal.contacts.models import ContactList
from smsportal.contacts.scope import not_for, not_for_error
from smsportal.core.locale import time_zones
from smsportal.departments.forms import DepartmentField
from smsportal.messaging.personal import placeholder_problems
from smsportal.providers.models import ProviderAccount
from smsportal.senders.selectors import unusable
from smsportal.sms.encoding import analyse
from smsportal.sms.placeholders import parse

from . import rules
from .models import RecurringSend

WEEKDAY_CHOICES = list(enumerate(rules.WEEKDAY_NAMES))


class RecurringSendForm(forms.ModelForm):
    weekdays = forms.TypedMultipleChoiceField(
        choices=WEEKDAY_CHOICES,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("On"),
    )
    # IANA names (Asia/Kuwait) are identifiers, the same in every language.
    timezone = forms.ChoiceField(
        label=_("Time zone"), widget=forms.Select(attrs={"translate": "no", "dir": "ltr"})
    )
    lists = forms.ModelMultipleChoiceField(
        ContactList.objects.all(),
        widget=forms.SelectMultiple(attrs={"size": 4}),
        label=_("Lists"),
        help_text=_("Everyone on these lists at the moment of each send; opt-outs are skipped."),
    )

    department = DepartmentField(help_text=gettext_lazy("Each send is this department's message."))

    class Meta:
        model = RecurringSend
        fields = [
            "name",
            "department",
            "account",
            "sender",
            "lists",
            "text",
            "frequency",
            "weekdays",
            "day_of_month",
            "interval_minutes",
            "time_of_day",
            "timezone",
            "starts_on",
            "ends_on",
            "max_occurrences",
            "on_missed",
        ]
        labels = {
            "name": _("Name"),
            "account": _("Account"),
            "text": _("Text"),
            "frequency": _("Frequency"),
            "sender": _("Sender ID"),
            "time_of_day": _("At"),
            "day_of_month": _("Day of the month"),
            "interval_minutes": _("Every how many minutes"),
            "starts_on": _("Starting on"),
            "ends_on": _("Ending on"),
            "max_occurrences": _("…or after this many sends"),
            "on_missed": _("If a send is missed (the portal was down)"),
        }
        help_texts = {
            "day_of_month": _("1 to 31; in a shorter month, its last day."),
            "ends_on": _("Set an end date, a number of sends, or neither to go on until deleted."),
        }
        widgets = {
            "text": forms.Textarea(attrs={"rows": 4, "dir": "auto"}),
            "time_of_day": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "starts_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "ends_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.chosen_department = None
        if user is not None:
            self.fields["department"].limit_to(user)
            self.chosen_department = self.fields["department"].chosen(self["department"].value())
            # The chosen department's lists and shared ones offered (swapped in place when the
            # department changes); another department's refused by `not_for` in clean().
            offer_department_lists(self, user, self.chosen_department)
        self.fields["account"].queryset = ProviderAccount.objects.filter(is_active=True)
        self.fields["account"].empty_label = None
        self.fields["frequency"].choices = RecurringSend.Frequency.choices
        zones = time_zones()  # real places and UTC; the choices are what the form accepts
        self.fields["timezone"].choices = [(z, z) for z in zones]
        if not self.instance.pk:
            default_zone = settings.TIME_ZONE if settings.TIME_ZONE in zones else "UTC"
            self.initial.setdefault("timezone", default_zone)
            self.initial.setdefault("starts_on", timezone.localdate())
            self.initial.setdefault("on_missed", RecurringSend.Missed.SEND_LATE)
            self.initial.setdefault("frequency", rules.WEEKLY)

    def clean_text(self):
        text = self.cleaned_data["text"]
        problems = placeholder_problems(text)
        if problems:
            raise forms.ValidationError(problems)
        template = parse(text)
        analysis = analyse(template.literal)
        if not analysis.sendable:
            raise forms.ValidationError(analysis.problem)
        return text

    def clean(self):
        cleaned = super().clean()
        for chosen in not_for(cleaned.get("department"), cleaned.get("lists") or []):
            self.add_error("lists", not_for_error(cleaned.get("department"), chosen))
        frequency = cleaned.get("frequency")
        # Only the fields of the chosen frequency are kept (the page hides the others).
        if frequency != rules.WEEKLY:
            cleaned["weekdays"] = []
        if frequency != rules.MONTHLY:
            cleaned["day_of_month"] = None
        if frequency != rules.INTERVAL:
            cleaned["interval_minutes"] = None
        if frequency == rules.WEEKLY and not cleaned.get("weekdays"):
            self.add_error("weekdays", _("Choose at least one day of the week."))
        if frequency == rules.MONTHLY:
            day = cleaned.get("day_of_month")
            if not day or not 1 <= day <= 31:
                self.add_error("day_of_month", _("Give a day of the month from 1 to 31."))
        if frequency == rules.INTERVAL and not cleaned.get("interval_minutes"):
            self.add_error("interval_minutes", _("Give how many minutes apart, 1 or more."))
        starts, ends = cleaned.get("starts_on"), cleaned.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", _("The end date is before the start date."))
        if cleaned.get("max_occurrences") == 0:
            self.add_error("max_occurrences", _("Give at least 1, or leave it empty."))
        sender, account = cleaned.get("sender", ""), cleaned.get("account")
        if account and sender and not account.backend_class.capabilities.sender_per_message:
            self.add_error(
                "sender",
                _(
                    "%(account)s cannot choose a sender ID per message: leave it empty to send "
                    "from the account's default sender."
                )
                % {"account": account},
            )
        elif account and sender and (problem := unusable(account, sender)):
            self.add_error("sender", problem.warning)
        if self.errors:
            return cleaned
        # Not for the unwary: without an end, a schedule this frequent sends without limit.
        endless = not ends and not cleaned.get("max_occurrences")
        if endless and self._rule(cleaned).shortest_gap < rules.MIN_ENDLESS_INTERVAL:
            minutes = cleaned["interval_minutes"]
            raise forms.ValidationError(
                ngettext(
                    "This would send every minute with no end. Set an end date or a number of "
                    "sends, or send at most once an hour.",
                    "This would send every %(count)s minutes with no end. Set an end date or a "
                    "number of sends, or send at most once an hour.",
                    minutes,
                )
                % {"count": f"{minutes:,}"}
            )
        if self._rule(cleaned).next_after(timezone.now()) is None:
            raise forms.ValidationError(
                _("This schedule never sends: no day between its start and end matches.")
            )
        return cleaned

    def _rule(self, cleaned) -> rules.Rule:
        return rules.Rule(
            frequency=cleaned["frequency"],
            time_of_day=cleaned["time_of_day"],
            timezone=cleaned["timezone"],
            starts_on=cleaned["starts_on"],
            ends_on=cleaned.get("ends_on"),
            weekdays=tuple(cleaned.get("weekdays") or ()),
            day_of_month=cleaned.get("day_of_month"),
            interval_minutes=cleaned.get("interval_minutes"),
        )
