from django.contrib import admin

from smsportal.departments.models import Department

from .forms import QuotaForm
from .models import Quota, Usage


@admin.register(Quota)
class QuotaAdmin(admin.ModelAdmin):
    list_display = [
        "department",
        "account",
        "parts_per_day",
        "parts_per_month",
        "credit_per_month",
        "warn_at_percent",
    ]
    list_filter = ["department", "account"]
    list_select_related = ["department", "account"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        # The page's form: departments limited to the user's own, addresses checked.
        base = QuotaForm

        class Form(base):
            def __init__(self, *args, **kw):
                super().__init__(*args, user=request.user, **kw)

        kwargs["form"] = Form
        return super().get_form(request, obj, change, **kwargs)

    def get_queryset(self, request):
        return (
            super().get_queryset(request).filter(department__in=Department.objects.of(request.user))
        )


@admin.register(Usage)
class UsageAdmin(admin.ModelAdmin):
    """Read-only: usage moves only with sends (an edit here would unbalance the holds)."""

    list_display = ["quota", "period", "starts", "parts", "credit"]
    list_filter = ["period", "quota__department"]
    list_select_related = ["quota__department", "quota__account"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(quota__department__in=Department.objects.of(request.user))
        )
