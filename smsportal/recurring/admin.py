from django.contrib import admin

from smsportal.departments.admin import DepartmentScopedAdmin

from .models import Occurrence, RecurringSend


class OccurrenceInline(admin.TabularInline):
    model = Occurrence
    extra = 0
    can_delete = False
    fields = ["due_at", "status", "late", "missed_before", "message", "reason"]
    readonly_fields = fields


@admin.register(RecurringSend)
class RecurringSendAdmin(DepartmentScopedAdmin):
    list_display = [
        "name",
        "department",
        "account",
        "frequency",
        "paused",
        "next_at",
        "occurrences_done",
    ]
    list_filter = ["frequency", "paused"]
    search_fields = ["name", "text"]
    readonly_fields = ["next_at", "occurrences_done", "created_by", "created_at"]
    inlines = [OccurrenceInline]
