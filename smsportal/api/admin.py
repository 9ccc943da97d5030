"""Admin: API keys (never their secrets: only the hash exists), read-only but revocable."""

from __future__ import annotations

from django.contrib import admin, messages

from smsportal.departments.admin import DepartmentScopedAdmin

from .models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(DepartmentScopedAdmin):
    list_display = [
        "name",
        "user",
        "department",
        "prefix",
        "scopes",
        "state",
        "expires_at",
        "last_used_at",
    ]
    list_filter = ["revoked_at", "expires_at"]
    search_fields = ["name", "prefix", "user__username"]
    readonly_fields = [
        "user",
        "name",
        "department",
        "prefix",
        "scopes",
        "allowed_addresses",
        "expires_at",
        "created_at",
        "revoked_at",
        "last_used_at",
        "last_used_from",
    ]
    exclude = ["secret_hash"]
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False  # a key is made by its user, who must see the secret once

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request, queryset) -> None:
        done = sum(key.revoke() for key in queryset)
        self.message_user(
            request, f"{done} key{'s' if done != 1 else ''} revoked.", messages.SUCCESS
        )
