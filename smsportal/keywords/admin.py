from django.contrib import admin

from .models import AutoReply, Confirmations, KeywordRule
from .scope import replies_of


@admin.register(KeywordRule)
class KeywordRuleAdmin(admin.ModelAdmin):
    list_display = ["keyword", "match", "account", "is_active", "created_at"]
    list_filter = ["account", "is_active", "match"]
    search_fields = ["keyword"]


@admin.register(Confirmations)
class ConfirmationsAdmin(admin.ModelAdmin):
    list_display = ["account", "window_minutes", "daily_limit", "updated_at"]


@admin.register(AutoReply)
class AutoReplyAdmin(admin.ModelAdmin):
    list_display = ["created_at", "phone", "kind", "account", "outcome"]
    list_filter = ["kind", "account"]
    search_fields = ["phone"]
    readonly_fields = [f.name for f in AutoReply._meta.fields]

    def get_queryset(self, request):
        # A staff member who is no superuser sees the replies of their departments' threads.
        return replies_of(request)

    def has_add_permission(self, request) -> bool:
        return False
