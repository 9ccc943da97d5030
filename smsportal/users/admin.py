"""The admin's view of two-factor devices: who has which, and a way to remove a lost one (the
user then logs in with the password alone, or is sent to set up again where it is required).
django-otp's own admin shows and edits each app's secret; a secret is never shown, so it goes."""

from __future__ import annotations

from django.contrib import admin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice


class DeviceAdmin(admin.ModelAdmin):
    list_display = ["user", "name", "confirmed", "created_at", "last_used_at"]
    list_filter = ["confirmed"]
    search_fields = ["user__username"]
    fields = ["user", "name", "confirmed", "created_at", "last_used_at"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False  # set up by the user, from their profile page, with the QR code

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# Runs after django-otp's own admin modules: this app comes after its plugins in INSTALLED_APPS.
for model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, DeviceAdmin)
