from django.contrib import admin

from .models import MessageTemplate


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "account", "updated_at"]
    search_fields = ["name", "text"]
    readonly_fields = ["created_by", "updated_at"]
