from django.contrib import admin

from .models import BalanceSnapshot, CreditTransfer


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records, not settings: viewable, never added, changed or deleted by hand."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(BalanceSnapshot)
class BalanceSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["account", "amount", "purchased", "used", "source", "taken_at"]
    list_filter = ["source", "account"]
    list_select_related = ["account"]
    date_hierarchy = "taken_at"


@admin.register(CreditTransfer)
class CreditTransferAdmin(ReadOnlyAdmin):
    """The transfer ledger. Transfers are made from the Credits page, which confirms them and
    executes each exactly once; here they are only read."""

    list_display = [
        "reference",
        "created_at",
        "account",
        "customer",
        "amount",
        "outcome",
        "provider_code",
        "created_by",
        "executed_at",
    ]
    list_filter = ["outcome", "account"]
    list_select_related = ["account", "created_by"]
    search_fields = ["customer", "provider_code", "provider_text"]
    date_hierarchy = "created_at"
