"""The audit trail in the admin: to read, never to add, change or delete — not even for a
superuser (auditlog's own admin still lets a cascade delete through; this one never does)."""

from __future__ import annotations

from auditlog import get_logentry_model
from django.contrib import admin

from smsportal.core.audit import EVENTS

AuditEntry = get_logentry_model()


class AuditEntryAdmin(admin.ModelAdmin):
    date_hierarchy = "timestamp"
    list_display = ["timestamp", "actor_name", "action_label", "content_type", "object_repr"]
    list_filter = ["event", "content_type"]
    list_select_related = ["content_type"]
    search_fields = ["actor_name", "object_repr", "object_pk"]
    fields = [
        "timestamp",
        "actor_name",
        "actor",
        "remote_addr",
        "event",
        "content_type",
        "object_pk",
        "object_repr",
        "changes",
        "additional_data",
    ]
    readonly_fields = fields
    actions = None  # no "delete selected"
    show_full_result_count = False  # no COUNT of a year of entries per page

    @admin.display(description="action", ordering="event")
    def action_label(self, entry) -> str:
        return EVENTS.get(entry.event, entry.event)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


if admin.site.is_registered(AuditEntry):
    admin.site.unregister(AuditEntry)
admin.site.register(AuditEntry, AuditEntryAdmin)
