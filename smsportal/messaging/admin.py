"""Admin: messages with their status counts, deliveries with their history inline."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from smsportal.contacts.phones import parse_phone

from .models import Delivery, DeliveryEvent, Message, UnmatchedReport
from .progress import progress


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["id", "short_body", "account", "status", "recipient_count", "created_at"]
    list_filter = ["status", "account", "created_at"]
    search_fields = ["body", "sender"]
    date_hierarchy = "created_at"
    list_select_related = ["account"]
    raw_id_fields = ["retry_of", "created_by"]
    readonly_fields = ["delivery_counts", "dispatched_at", "completed_at", "created_at"]

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
                '<a href="{}?message__id__exact={}&amp;status__exact={}">{} {}</a>',
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
        "created_at",
        "source",
        "from_status",
        "to_status",
        "provider_status",
        "description",
        "raw",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "phone",
        "status",
        "message_link",
        "account",
        "provider_message_id",
        "queued_at",
    ]
    list_filter = ["status", "account", "queued_at"]
    search_fields = ["=phone", "=provider_message_id"]
    date_hierarchy = "queued_at"
    list_select_related = ["account"]
    raw_id_fields = ["message"]
    readonly_fields = ["claim", "queued_at", "sending_at", "submitted_at", "final_at"]
    inlines = [DeliveryEventInline]
    show_full_result_count = False  # no COUNT(*) over millions of rows per page

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


@admin.register(UnmatchedReport)
class UnmatchedReportAdmin(admin.ModelAdmin):
    list_display = [
        "provider_message_id",
        "account",
        "status",
        "source",
        "received_at",
        "applied_at",
    ]
    list_filter = ["account", "status", "source"]
    search_fields = ["=provider_message_id"]
    readonly_fields = [f.name for f in UnmatchedReport._meta.fields]

    def has_add_permission(self, request) -> bool:
        # Reports arrive from providers; a form of read-only fields could only save an empty
        # row, which the database refuses.
        return False
