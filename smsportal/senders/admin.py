from django.contrib import admin

from .forms import SenderIDForm
from .models import SenderID


@admin.register(SenderID)
class SenderIDAdmin(admin.ModelAdmin):
    form = SenderIDForm
    list_display = ["value", "account", "kind", "status", "is_default", "source", "missing_since"]
    list_filter = ["status", "kind", "source", "is_default", "account"]
    search_fields = ["value", "account__name"]
    list_select_related = ["account"]
    readonly_fields = [
        "kind",
        "is_default",
        "source",
        "missing_since",
        "last_seen_at",
        "created_at",
        "updated_at",
    ]

    def has_delete_permission(self, request, obj=None) -> bool:
        # Messages refer to the sender they went from: retire instead of deleting.
        return False
