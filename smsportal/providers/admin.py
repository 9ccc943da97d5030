from django.contrib import admin

from .forms import ProviderAccountForm, option_field_name
from .models import ProviderAccount
from .registry import PROVIDERS, backend_class


@admin.register(ProviderAccount)
class ProviderAccountAdmin(admin.ModelAdmin):
    form = ProviderAccountForm
    list_display = ["name", "kind", "username", "price_per_segment", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "username"]
    readonly_fields = [
        "webhook_token",
        "previous_webhook_token",
        "last_report_at",
        "last_inbound_at",
        "created_at",
        "updated_at",
    ]

    def get_fieldsets(self, request, obj=None):
        # Each backend's own options (Backend.settings_fields), one fieldset per provider, as
        # the form adds them; a field a backend adds later appears here by itself.
        fieldsets = [(None, {"fields": ProviderAccountForm.Meta.fields})]
        for kind, (label, _path) in PROVIDERS.items():
            names = [option_field_name(kind, n) for n in backend_class(kind).settings_fields()]
            if names:
                fieldsets.append(
                    (
                        f"{label} options",
                        {"fields": names, "description": f"Used only by {label} accounts."},
                    )
                )
        fieldsets.append(("Webhooks and history", {"fields": self.readonly_fields}))
        return fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        # The option fields are added by the form itself, not by the model: leave them out of
        # the field list the admin builds the form class from.
        if kwargs.get("fields"):
            kwargs["fields"] = [f for f in kwargs["fields"] if "__" not in f]
        return super().get_form(request, obj, change=change, **kwargs)
