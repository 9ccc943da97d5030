"""Contacts, the lists they belong to, the numbers that must never be messaged, and the record of
imports and of lists pushed to providers."""

from __future__ import annotations

from django.conf import settings
from django.db import models, transaction
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from smsportal.providers.backends.base import ProviderError
from smsportal.sms.measures import contact_measures
from smsportal.sms.normalise import fold

from .reading import csv_format_label
from .reasons import translated


class ContactQuerySet(models.QuerySet):
    def update(self, **kwargs):
        # A value changed in bulk without its measures: they are forgotten (NULL), so the
        # preview renders those contacts rather than count them by stale figures.
        if "measures" not in kwargs and {"phone", "name", "email", "attributes"} & set(kwargs):
            kwargs["measures"] = None
        return super().update(**kwargs)


class Contact(models.Model):
    # Whose contact this is: staff see and use only their departments' (contacts/scope.py). A
    # number may be a contact of several departments, once in each. Empty: the whole
    # organisation's (rows from before departments are moved to "General" by migration 0011).
    # No index of its own: (department, phone) and (department, -id) lead with it already, and
    # a third copy cost every imported contact 11 % more index writing (migration 0012).
    department = models.ForeignKey(
        "departments.Department",
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.PROTECT,
        related_name="contacts",
        verbose_name=_("department"),
    )
    phone = models.CharField(max_length=20, help_text="E.164, e.g. +96597119440.")
    name = models.CharField(max_length=200, blank=True)
    # The name folded (case, and Arabic spelling variants: sms.normalise), what search matches
    # against (contacts/search.py). Kept by save() and by the importer, through key_of().
    name_key = models.CharField(max_length=200, blank=True, editable=False)
    email = models.EmailField(blank=True)
    # Custom fields' values by their key ("city": "Kuwait", see ContactField), and columns of an
    # import that map to no field, kept as they came ("company": "Acme").
    attributes = models.JSONField(default=dict, blank=True)
    # What each non-empty placeholder value adds to a text (sms/measures.py), by placeholder
    # name: the personalised preview groups recipients by these in SQL. Kept by save() and by
    # the importer (measures_of); NULL where not computed, and those contacts are rendered.
    measures = models.JSONField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["department", "phone"],
                name="contact_phone_unique",
                violation_error_message=_("This department has a contact with this number."),
            ),
            models.UniqueConstraint(
                fields=["phone"],
                condition=models.Q(department__isnull=True),
                name="contact_phone_unique_no_department",
            ),
        ]
        indexes = [
            models.Index(fields=["name_key"], name="contact_name_key"),
            models.Index(fields=["phone"], name="contact_phone"),
            # The contacts page: a department's newest first, a keyset window at a time.
            models.Index(fields=["department", "-id"], name="contact_department_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.phone})" if self.name else self.phone

    def save(self, *args, **kwargs):
        self.name_key = self.key_of(self.name)
        self.measures = self.measures_of(self.phone, self.name, self.email, self.attributes)
        fields = kwargs.get("update_fields")
        if fields is not None and {"name", "phone", "email", "attributes"} & set(fields):
            extra = {"measures"} | ({"name_key"} if "name" in fields else set())
            kwargs["update_fields"] = {*fields, *extra}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("contacts:contact_edit", args=[self.pk])

    @staticmethod
    def key_of(name: str) -> str:
        return fold(name)[:200]  # a compatibility ligature may unfold past the column's size

    @staticmethod
    def measures_of(phone: str, name: str, email: str, attributes) -> dict[str, int]:
        return contact_measures(
            phone=phone or "", name=name or "", email=email or "", attributes=attributes
        )


class ContactFieldManager(models.Manager):
    def keys(self) -> frozenset[str]:
        return frozenset(self.values_list("key", flat=True))

    def header_map(self) -> dict[str, str]:
        """What an import's column header may say for each field (its key or label, case and
        `_` ignored) → the field's key."""
        mapping = {}
        for key, label in self.values_list("key", "label"):
            mapping[header_form(label)] = key
            mapping[header_form(key)] = key
        return mapping


def header_form(text: str) -> str:
    """A column header or field name as compared: case, `_` and outer spaces ignored."""
    return " ".join(text.replace("_", " ").casefold().split())


class ContactField(models.Model):
    """A custom field every contact may have a value for (kept in `Contact.attributes` under
    its `key`). The key is what placeholders use (`{city}`); renaming changes the label only, so
    saved templates and recurring sends keep working."""

    key = models.SlugField(
        max_length=40,
        unique=True,
        allow_unicode=False,
        help_text="Used in messages as {key}: lower-case letters, digits and _.",
    )
    label = models.CharField(max_length=100, unique=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ContactFieldManager()

    class Meta:
        ordering = ["position", "label"]
        verbose_name = "contact field"

    def __str__(self) -> str:
        return self.label

    @property
    def placeholder(self) -> str:
        return "{" + self.key + "}"

    def delete_values(self) -> int:
        """Remove this field's value from every contact (one UPDATE; JSON functions differ by
        database). Returns how many contacts had one."""
        with_value = Contact.objects.filter(attributes__has_key=self.key)
        return with_value.update(
            attributes=RawJSONRemove(self.key),
            measures=RawJSONRemove(self.key.casefold(), column="measures"),
        )


class RawJSONRemove(models.Func):
    """`attributes` without one key: `attributes - key` on PostgreSQL, `json_remove` on
    SQLite (Django has no expression for it)."""

    output_field = models.JSONField()

    def __init__(self, key: str, column: str = "attributes"):
        super().__init__(models.F(column), models.Value(key))

    def as_sql(self, compiler, connection, **extra):
        column, column_params = compiler.compile(self.source_expressions[0])
        if connection.vendor == "postgresql":
            return f"({column} - %s)", [*column_params, self.source_expressions[1].value]
        path = '$."' + self.source_expressions[1].value.replace('"', "") + '"'
        return f"json_remove({column}, %s)", [*column_params, path]


class ContactList(models.Model):
    # Whose list this is (contacts/scope.py); `shared`: every department may see it and send to
    # it, only its own department changes it. Empty: the whole organisation's.
    department = models.ForeignKey(
        "departments.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contact_lists",
        verbose_name=_("department"),
    )
    shared = models.BooleanField(
        _("shared"),
        default=False,
        help_text=_("Every department may see this list and send to it; only yours changes it."),
    )
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    members = models.ManyToManyField(Contact, through="Membership", related_name="lists")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["department", "name"],
                name="list_name_unique",
                violation_error_message=_("This department has a list of this name."),
            ),
            models.UniqueConstraint(
                fields=["name"],
                condition=models.Q(department__isnull=True),
                name="list_name_unique_no_department",
            ),
        ]
        indexes = [models.Index(fields=["shared", "name"], name="list_shared")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("contacts:list_detail", args=[self.pk])

    def add(self, contact_ids) -> int:
        """Add contacts (ids) not yet members; returns how many were new."""
        ids = set(contact_ids)
        present = set(
            Membership.objects.filter(contact_list=self, contact_id__in=ids).values_list(
                "contact_id", flat=True
            )
        )
        Membership.objects.bulk_create(
            [Membership(contact_list=self, contact_id=i) for i in ids - present],
            batch_size=2_000,
            ignore_conflicts=True,
        )
        return len(ids - present)

    def remove(self, contact_ids) -> int:
        return Membership.objects.filter(contact_list=self, contact_id__in=contact_ids).delete()[0]

    def phones(self):
        """The members' numbers, streamed."""
        return (
            Contact.objects.filter(memberships__contact_list=self)
            .order_by("id")
            .values_list("phone", flat=True)
            .iterator(chunk_size=5_000)
        )

    def push_to(self, account, user=None) -> RemoteListPush:
        """Copy this list to `account` (KalaSMS remote lists) in the background: the copy is
        recorded now, and the task (`remote.run_push`) adds the members who have not opted out.
        Raises ProviderError where the provider keeps no lists, and where the list's name there
        holds a list this one did not copy (`remote.check_name_free`)."""
        # remote and tasks import this module, hence the imports here (same app).
        from .remote import check_name_free, remote_name, sendable_members
        from .tasks import push_list

        if not account.backend.capabilities.remote_lists:
            raise ProviderError(f"{account.get_kind_display()} keeps no lists.")
        name = remote_name(self)
        check_name_free(self, account, name)
        push = RemoteListPush.objects.create(
            contact_list=self,
            account=account,
            remote_name=name,
            total=sendable_members(self).count(),
            created_by=user,
        )
        transaction.on_commit(lambda: push_list.enqueue(push.pk))
        return push


class Membership(models.Model):
    contact_list = models.ForeignKey(ContactList, on_delete=models.CASCADE)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="memberships")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contact_list", "contact"], name="membership_unique")
        ]
        indexes = [models.Index(fields=["contact", "contact_list"], name="membership_contact")]

    def __str__(self) -> str:
        return f"{self.contact_id} on {self.contact_list_id}"


class ListMeasureCount(models.Model):
    """How many reachable members (not opted out) of a list have each combination of measures
    (`Contact.measures` as text, "" where never computed): the personalised preview of a list
    sums this small table instead of reading a million contacts (messaging/personal.py).

    Kept by database triggers (migration 0009) on memberships, contacts and opt-outs, in the
    statement that changes them, so no path — the ORM, the importer's raw SQL, a cascade, a
    field removed from every contact in one UPDATE — can leave it wrong. Rows may fall to 0 and
    stay; readers skip them. Why a histogram keyed by the whole measures rather than one per
    field: a text's parts depend on the sum of its fields' lengths, so only their joint
    distribution is exact, and contacts share few distinct combinations."""

    contact_list = models.ForeignKey(
        ContactList, on_delete=models.CASCADE, related_name="measure_counts"
    )
    measures = models.TextField(blank=True)
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["contact_list", "measures"], name="list_measure_count_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.count} on {self.contact_list_id}"


class OptOut(models.Model):
    """A number that must never be messaged, whether or not it is a contact."""

    class Reason(models.TextChoices):
        KEYWORD = "keyword", _("replied with an opt-out keyword")
        MANUAL = "manual", _("added by staff")
        IMPORT = "import", _("imported")
        BOUNCE = "bounce", _("number bounced")

    phone = models.CharField(max_length=20, unique=True)
    reason = models.CharField(max_length=10, choices=Reason.choices, default=Reason.MANUAL)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    # The one message this opt-out lets through: the confirmation of a STOP (a messaging
    # Message id; not a foreign key, contacts sit below messaging). Set once, by a conditional
    # update, so each opt-out is confirmed at most once; dispatch skips the number otherwise.
    confirmation_message_id = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "opt-out"
        permissions = [
            (
                "lift_any_optout",
                "Can remove any opt-out, including one made by keyword or by a Manager",
            )
        ]

    def __str__(self) -> str:
        return self.phone

    @property
    def protected(self) -> bool:
        """Made by the person themselves (a keyword) or by someone who may lift any opt-out (a
        Manager): only such a person may remove it."""
        if self.reason == self.Reason.KEYWORD:
            return True
        creator = self.created_by
        return bool(creator and creator.has_perm("contacts.lift_any_optout"))

    @property
    def shown_note(self) -> str:
        """The note in the reader's language: a keyword's ("keyword STOP") is kept in English by
        the webhook that made it; staff's and an import's notes are theirs, shown as written."""
        if self.reason == self.Reason.KEYWORD and self.note.startswith("keyword "):
            return gettext("keyword %(keyword)s") % {"keyword": self.note.removeprefix("keyword ")}
        return self.note

    def may_be_lifted_by(self, user) -> bool:
        if not user.has_perm("contacts.delete_optout"):
            return False
        return not self.protected or user.has_perm("contacts.lift_any_optout")


class ImportJob(models.Model):
    class Status(models.TextChoices):
        PREVIEW = "preview"  # uploaded, shown to staff (encoding, columns, first rows), not started
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    class Mode(models.TextChoices):
        UPDATE = "update", "update existing contacts"
        SKIP = "skip", "skip existing contacts"

    # Deleted once the import ends (IMPORT_UPLOADS_KEEP_DAYS keeps them longer): "" then.
    file = models.FileField(upload_to="imports/%Y/%m/", blank=True)
    original_name = models.CharField(max_length=255)
    # How the file was read: the encoding staff confirmed in the preview ("" = detect), and
    # what the reading found; a rejected-rows file is written back the same way.
    encoding = models.CharField(max_length=32, blank=True)
    delimiter = models.CharField(max_length=1, blank=True)
    header = models.JSONField(default=list, blank=True)
    contact_list = models.ForeignKey(ContactList, null=True, blank=True, on_delete=models.SET_NULL)
    new_list = models.CharField(max_length=100, blank=True)  # made when the import starts
    region = models.CharField(max_length=2)
    mode = models.CharField(max_length=6, choices=Mode.choices, default=Mode.UPDATE)
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    bytes_total = models.BigIntegerField(default=0)
    bytes_read = models.BigIntegerField(default=0)
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    warned = models.PositiveIntegerField(default=0)  # imported with a change (a name cut, ...)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    # The department whose contacts the import writes (contacts/scope.py).
    department = models.ForeignKey(
        "departments.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="imports",
        verbose_name=_("department"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["department", "-created_at"], name="import_department_recent")
        ]

    def __str__(self) -> str:
        return f"Import of {self.original_name}"

    def get_absolute_url(self) -> str:
        return reverse("contacts:import_detail", args=[self.pk])

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return int(100 * self.bytes_read / self.bytes_total) if self.bytes_total else 0

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    def get_encoding_display(self) -> str:
        if not self.encoding:
            return gettext("a spreadsheet (XLSX)")
        return csv_format_label(self.encoding, self.delimiter)

    @property
    def rejected_file_format(self) -> tuple[str, str]:
        """(encoding, delimiter) of its rejected-rows file: those of the file imported, so
        that staff can correct the rows and import them again as they are; UTF-8 with a BOM
        and commas for a spreadsheet."""
        return (self.encoding or "utf-8-sig", self.delimiter or ",")


class ImportRejection(models.Model):
    """A row the import could not take, with its line in the file and the reason; or, `kept`,
    a row imported with a change the reason explains (a name cut to fit)."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="rejections")
    line = models.PositiveIntegerField()
    raw = models.TextField()
    reason = models.CharField(max_length=300)
    kept = models.BooleanField(default=False)

    class Meta:
        ordering = ["line"]

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"

    @property
    def shown_reason(self) -> str:
        """The reason in the reader's language (it is stored in English)."""
        return translated(self.reason)


class RemoteListPush(models.Model):
    """A list copied to a provider account's remote lists (KalaSMS), and how far it got."""

    class Status(models.TextChoices):
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    contact_list = models.ForeignKey(ContactList, on_delete=models.CASCADE, related_name="pushes")
    account = models.ForeignKey("providers.ProviderAccount", on_delete=models.CASCADE)
    remote_name = models.CharField(max_length=100)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.RUNNING)
    total = models.PositiveIntegerField(default=0)
    pushed = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.contact_list} → {self.account} ({self.remote_name})"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return int(100 * self.pushed / self.total) if self.total else 0
