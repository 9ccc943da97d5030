from django.contrib import admin
from django.db.models import Count, Q

from .models import Department


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "member_count", "created_at"]
    search_fields = ["name"]
    filter_horizontal = ["members"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("members"))

    @admin.display(description="members", ordering="member_count")
    def member_count(self, department: Department) -> int:
        return department.member_count


class DepartmentScopedAdmin(admin.ModelAdmin):
    """The admin of a department's rows: a non-superuser sees and edits only their departments'
    (`department_path`: the lookup from the row to its department), and may put a row only in
    one of them; another department's id is "not found"."""

    department_path = "department"

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        if request.user.is_superuser:
            return rows
        # A row of no department is the whole organisation's (messaging/scope.py).
        return rows.filter(
            Q(**{f"{self.department_path}__in": Department.objects.of(request.user)})
            | Q(**{f"{self.department_path}__isnull": True})
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "department" and not request.user.is_superuser:
            kwargs["queryset"] = Department.objects.of(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
