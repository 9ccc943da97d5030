from django.contrib import admin

from .forms import ProviderAccountForm
from .models import ProviderAccount


@admin.register(ProviderAccount)
class ProviderAccountAdmin(admin.ModelAdmin):
    form = ProviderAccountForm
    list_display = ["name", "kind", "username", "price_per_segment", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "username"]
    readonly_fields = ["webhook_token", "previous_webhook_token", "created_at", "updated_at"]
