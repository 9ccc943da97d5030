from django.contrib import admin

from .models import Attempt, Endpoint, Event


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "is_active", "last_success_at", "disabled_at"]
    list_filter = ["is_active"]
    exclude = ["secret_encrypted", "previous_secret_encrypted"]  # never shown

    def has_add_permission(self, request) -> bool:
        return False  # made on the Forwarding page, which shows the new secret once


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["event_id", "kind", "endpoint", "status", "attempts", "created_at"]
    list_filter = ["status", "kind"]
    readonly_fields = [f.name for f in Event._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False  # events are made by the portal, never by hand


@admin.register(Attempt)
class AttemptAdmin(admin.ModelAdmin):
    list_display = ["at", "endpoint", "status_code", "latency_ms", "ok", "error"]
    list_filter = ["ok"]
    readonly_fields = [f.name for f in Attempt._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False  # the log of what happened, never written by hand
