from django.contrib import admin
from django.db.models import Count

from smsportal.departments.admin import DepartmentScopedAdmin

from .models import Contact, ContactList, ImportJob, ImportRejection, OptOut, RemoteListPush


class MembershipInline(admin.TabularInline):
    model = Contact.lists.through
    extra = 0
    autocomplete_fields = ["contact_list"]


@admin.register(Contact)
class ContactAdmin(DepartmentScopedAdmin):
    list_display = ["phone", "name", "email", "department", "created_at"]
    list_filter = ["department", "created_at"]
    search_fields = ["=phone", "name", "email"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [MembershipInline]
    show_full_result_count = False  # no COUNT(*) over a million contacts per page
    change_list_template = "admin/contacts/contact/change_list.html"  # adds "Import contacts"


@admin.register(ContactList)
class ContactListAdmin(DepartmentScopedAdmin):
    list_display = ["name", "department", "shared", "members_count", "created_at"]
    list_filter = ["department", "shared"]
    search_fields = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(members_count=Count("membership"))

    @admin.display(ordering="members_count", description="members")
    def members_count(self, obj) -> int:
        return obj.members_count


@admin.register(OptOut)
class OptOutAdmin(admin.ModelAdmin):
    list_display = ["phone", "reason", "note", "created_at", "created_by"]
    list_filter = ["reason", "created_at"]
    search_fields = ["phone", "note"]
    raw_id_fields = ["created_by"]

    def has_delete_permission(self, request, obj=None):
        if obj is not None:
            return obj.may_be_lifted_by(request.user)
        return super().has_delete_permission(request, obj)


class RejectionInline(admin.TabularInline):
    model = ImportRejection
    extra = 0
    can_delete = False
    readonly_fields = ["line", "reason", "raw"]
    max_num = 0  # read-only: rejections are the import's record


@admin.register(ImportJob)
class ImportJobAdmin(DepartmentScopedAdmin):
    list_display = [
        "original_name",
        "status",
        "rows",
        "created",
        "updated",
        "unchanged",
        "rejected",
        "created_by",
        "created_at",
    ]
    list_filter = ["status", "dry_run", "created_at"]
    search_fields = ["original_name"]
    # The uploaded file is not served (it holds contacts): its stored name, not a dead link.
    exclude = ["file"]
    readonly_fields = [
        "stored_file" if f.name == "file" else f.name for f in ImportJob._meta.fields
    ]
    inlines = [RejectionInline]

    def has_add_permission(self, request) -> bool:
        return False  # imports start from the portal's import page (linked from Contacts)

    @admin.display(description="file")
    def stored_file(self, job: ImportJob) -> str:
        return job.file.name


@admin.register(RemoteListPush)
class RemoteListPushAdmin(DepartmentScopedAdmin):
    department_path = "contact_list__department"

    list_display = [
        "contact_list",
        "account",
        "remote_name",
        "status",
        "pushed",
        "total",
        "started_at",
    ]
    list_filter = ["status", "account"]
    readonly_fields = [f.name for f in RemoteListPush._meta.fields]

    def has_add_permission(self, request) -> bool:
        # A copy is the record of a push the portal ran (Lists → Copy to a provider); a form of
        # read-only fields could only save an empty row, which the database refuses.
        return False
