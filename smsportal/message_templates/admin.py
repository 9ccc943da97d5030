from django.contrib import admin

from smsportal.departments.admin import DepartmentScopedAdmin

from .models import MessageTemplate


@admin.register(MessageTemplate)
class MessageTemplateAdmin(DepartmentScopedAdmin):
    list_display = ["name", "department", "account", "updated_at"]
    list_filter = ["department"]
    search_fields = ["name", "text"]
    readonly_fields = ["created_by", "updated_at"]
