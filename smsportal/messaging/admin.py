"""Admin: messages with their status counts, deliveries with their history inline.

What was sent is a record, not a draft: messages, deliveries, their events and unmatched reports
are shown read-only, with every time to the second (several events often share a minute).
Messages are created by the send path, which checks and dispatches them; the admin never does.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from smsportal.departments.admin import DepartmentScopedAdmin
from smsportal.sms.phones import parse_phone

from .models import Delivery, DeliveryEvent, DeliveryPart, Message, UnmatchedReport
from .progress import progress

SECONDS = "%Y-%m-%d %H:%M:%S"


def to_the_second(field: str, label: str):
    """An admin column showing the datetime `field` to the second, in the portal's time zone."""

    @admin.display(description=label, ordering=field)
    def show(self, obj) -> str:
        moment = getattr(obj, field)
        return timezone.localtime(moment).strftime(SECONDS) if moment else "–"

    show.__name__ = f"{field}_s"
    return show


class ReadOnlyAdmin(admin.ModelAdmin):
    """View only, for superusers too: no add, no change, no delete."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Message)
class MessageAdmin(DepartmentScopedAdmin, ReadOnlyAdmin):
    list_display = [
        "id",
        "short_body",
        "account",
        "department",
        "status",
        "recipient_count",
        "created_at_s",
    ]
    list_filter = ["status", "account", "department", "created_at"]
    search_fields = ["body", "sender"]
    date_hierarchy = "created_at"
    list_select_related = ["account"]
    fields = [
        "account",
        "sender",
        "body",
        "encoding",
        "segments",
        "message_type",
        "want_delivery_report",
        "status",
        "held_reason",
        "recipient_count",
        "delivery_counts",
        "estimated_cost",
        "actual_cost",
        "created_by",
        "origin",
        "retry_of",
        "created_at_s",
        "scheduled_for_s",
        "dispatched_at_s",
        "completed_at_s",
    ]
    readonly_fields = fields

    created_at_s = to_the_second("created_at", "created")
    scheduled_for_s = to_the_second("scheduled_for", "scheduled for")
    dispatched_at_s = to_the_second("dispatched_at", "dispatched")
    completed_at_s = to_the_second("completed_at", "completed")

    @admin.display(description="sent")
    def origin(self, obj: Message) -> str:
        # `api_origin`: the row the API app (above messaging) adds for a message it sent.
        api = getattr(obj, "api_origin", None)
        return str(api) if api else "from the portal"

    @admin.display(description="text")
    def short_body(self, obj: Message) -> str:
        return obj.body[:60]

    @admin.display(description="deliveries")
    def delivery_counts(self, obj: Message) -> str:
        # A message may have a million deliveries: counts and a link, not an inline.
        url = reverse("admin:messaging_delivery_changelist")
        return (
            format_html_join(
                " · ",
                '<a href="{}?message__id__exact={}&amp;status__exact={}">{:,} {}</a>',
                (
                    (url, obj.pk, status, count, status)
                    for status, count in sorted(progress(obj.pk).counts.items())
                ),
            )
            or "none"
        )


class DeliveryEventInline(admin.TabularInline):
    model = DeliveryEvent
    extra = 0
    can_delete = False
    fields = [
        "at",
        "source",
        "from_status",
        "to_status",
        "provider_status",
        "description",
        "raw",
    ]
    readonly_fields = fields

    at = to_the_second("created_at", "at")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class DeliveryPartInline(admin.TabularInline):
    """The parts of a long text the provider accepted under ids of their own (SMPP)."""

    model = DeliveryPart
    extra = 0
    can_delete = False
    fields = ["number", "provider_message_id", "status"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(DepartmentScopedAdmin, ReadOnlyAdmin):
    department_path = "message__department"
    list_display = [
        "id",
        "phone",
        "status",
        "message_link",
        "account",
        "provider_message_id",
        "queued_at_s",
        "final_at_s",
    ]
    list_filter = ["status", "account", "queued_at"]
    search_fields = ["=phone", "=provider_message_id"]
    date_hierarchy = "queued_at"
    list_select_related = ["account"]
    fields = [
        "message_link",
        "account",
        "phone",
        "text_sent",
        "status",
        "provider_message_id",
        "error_code",
        "error_text",
        "segments",
        "cost",
        "attempts",
        "confirmed",
        "claim",
        "polls",
        "next_poll_at_s",
        "queued_at_s",
        "sending_at_s",
        "submitted_at_s",
        "final_at_s",
    ]
    readonly_fields = fields
    inlines = [DeliveryPartInline, DeliveryEventInline]
    show_full_result_count = False  # no COUNT(*) over millions of rows per page

    queued_at_s = to_the_second("queued_at", "queued")
    sending_at_s = to_the_second("sending_at", "sending")
    submitted_at_s = to_the_second("submitted_at", "submitted")
    final_at_s = to_the_second("final_at", "final")
    next_poll_at_s = to_the_second("next_poll_at", "next poll")

    def get_search_results(self, request, queryset, search_term):
        """Staff paste a number as they have it (`9711 9440`, `+965 9711 9440`, `0096597119440`):
        a term that reads as a phone number matches its E.164 form, still an exact match on the
        indexed column, never a scan of millions of deliveries."""
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        parsed = parse_phone(search_term, settings.PHONE_DEFAULT_REGION)
        if parsed.valid and parsed.e164 != search_term.strip():
            queryset |= self.model.objects.filter(phone=parsed.e164)
        return queryset, may_have_duplicates

    @admin.display(description="message")
    def message_link(self, obj: Delivery) -> str:
        url = reverse("admin:messaging_message_change", args=[obj.message_id])
        return format_html('<a href="{}">#{}</a>', url, obj.message_id)

    @admin.display(description="text sent")
    def text_sent(self, obj: Delivery) -> str:
        """This recipient's own text (a personalised message), else the message's."""
        return obj.text or obj.message.body


@admin.register(UnmatchedReport)
class UnmatchedReportAdmin(ReadOnlyAdmin):
    list_display = [
        "provider_message_id",
        "account",
        "status",
        "source",
        "received_at_s",
        "applied_at_s",
    ]
    list_filter = ["account", "status", "source"]
    search_fields = ["=provider_message_id"]
    fields = [
        "account",
        "provider_message_id",
        "recipient",
        "status",
        "provider_status",
        "description",
        "source",
        "raw",
        "received_at_s",
        "applied_at_s",
    ]
    readonly_fields = fields

    received_at_s = to_the_second("received_at", "received")
    applied_at_s = to_the_second("applied_at", "applied")
