"""Messages, their deliveries (one per recipient), the history of each delivery, and reports that
arrived for deliveries we could not (yet) match."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone

from smsportal.providers.backends.base import MessageType
from smsportal.sms.encoding import ALPHABET_LABELS
from smsportal.sms.status import DeliveryStatus


class Message(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "draft"  # being created; deliveries may not all exist yet
        SCHEDULED = "scheduled", "scheduled"  # waits for `scheduled_for`
        SENDING = "sending", "sending"  # dispatched; some deliveries are not settled
        DONE = "done", "done"  # every delivery left queued/sending
        CANCELLED = "cancelled", "cancelled"  # stopped by staff; unsent deliveries cancelled

    # Indexed by (account, -created_at, -id) below, which serves the foreign key too.
    account = models.ForeignKey(
        "providers.ProviderAccount",
        on_delete=models.PROTECT,
        related_name="messages",
        db_index=False,
    )
    sender = models.CharField("sender ID", max_length=20, blank=True)
    body = models.TextField()
    # The body has placeholders ({first_name|Customer}): each delivery keeps its own text (and
    # parts); `encoding` and `segments` are then those of the longest one.
    personal = models.BooleanField(default=False)
    encoding = models.CharField(max_length=8)
    segments = models.PositiveSmallIntegerField()
    message_type = models.CharField(
        max_length=10, choices=[(t.value, t.value) for t in MessageType], default=MessageType.TEXT
    )
    want_delivery_report = models.BooleanField(default=True)
    # Binary messages: whether the hex body starts with a user data header (ISMS type 5 or 6,
    # SMPP esm_class 0x40).
    binary_udh = models.BooleanField("binary starts with a UDH", default=True)
    # 2D barcode messages (ISMS ISendSMS2D): the MsgType, the phone format of the barcode.
    barcode_format = models.CharField(max_length=10, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    scheduled_for = models.DateTimeField(null=True, blank=True)
    recipient_count = models.PositiveIntegerField(default=0)
    estimated_cost = models.DecimalField(max_digits=14, decimal_places=4, default=Decimal("0"))
    actual_cost = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    retry_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries"
    )
    # Some of its deliveries were retried (`Delivery.retried_in`): only then does the message
    # page ask which are left to retry, so a page of a message never retried reads no more.
    has_retries = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    # Whose message this is: staff see only their departments' (Department.objects.of). Empty
    # only for an automatic reply to a number no department has written to (superusers see it).
    # Indexed by (department, -created_at, -id) below, which serves the foreign key too.
    department = models.ForeignKey(
        "departments.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="messages",
        db_index=False,
    )
    # The key that makes a send happen once: a form's one-time token under its person's prefix
    # (a double click or a second tab submits the same token, and finds this message instead of
    # creating a second one), or the portal's own for a recurring occurrence or a routed part.
    # Only its sender's repeat is answered with this message (messaging/idempotency.py).
    idempotency_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    # Why a scheduled message was held back when its time came (a provider's flood rule), and
    # until when; empty once it goes. Shown on the message page.
    held_reason = models.TextField(blank=True)
    # Sent with the account "Automatic" (messaging/routed.py): the route that chose this
    # message's account (one message per account and route), and the sender ID staff asked for
    # before it was mapped to the account's. Failover (messaging/failover.py) moves a delivery
    # that certainly did not leave to the route's next account; the route reports group by it.
    route = models.ForeignKey(
        "routing.Route",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
        verbose_name="route",
    )
    routed_sender = models.CharField("sender ID asked for", max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "scheduled_for"]),
            # The messages page of one department, newest first (keyset and offset paging).
            models.Index(
                fields=["department", "-created_at", "-id"], name="message_department_recent"
            ),
            # The messages page filtered by status or by account, newest first: an ordered walk
            # that stops at a page, however many messages the status or account has.
            models.Index(fields=["status", "-created_at", "-id"], name="message_status_recent"),
            models.Index(fields=["account", "-created_at", "-id"], name="message_account_recent"),
            # A sender ID's scheduled messages, newest first: the page the retire confirmation
            # links to (`?status=scheduled&account=…&sender=…`, messaging/sender_uses.py) and
            # its count. By account alone that page walked every message of the account.
            models.Index(
                fields=["account", "sender", "status", "-created_at", "-id"],
                name="message_sender_recent",
            ),
        ]

    def __str__(self) -> str:
        preview = self.body if len(self.body) <= 40 else self.body[:39] + "…"
        return f"#{self.pk} {preview}"

    def get_absolute_url(self) -> str:
        return reverse("messaging:message_detail", args=[self.pk])

    @property
    def alphabet(self) -> str:
        """The alphabet in the words the compose preview uses ("Standard", "Unicode", ...)."""
        return str(ALPHABET_LABELS.get(self.encoding, self.encoding))

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.SCHEDULED

    # The modules below import this one, hence the imports inside the methods (same app).

    def send(self) -> None:
        """Hand this message to the send queue, for its scheduled time or now: the worker's
        dispatch (`messaging.dispatch`) then submits it through `account.backend` in batches.
        The send service calls it on commit, and again when a scheduled message is moved."""
        from .tasks import dispatch_message

        if self.scheduled_for:
            dispatch_message.using(run_after=self.scheduled_for).enqueue(
                self.pk, self.scheduled_for.isoformat()
            )
        else:
            dispatch_message.enqueue(self.pk)

    def cancel(self, user=None) -> int:
        """Stop this message: its queued deliveries become `cancelled`; batches a worker has
        already claimed finish. Returns how many deliveries were withdrawn."""
        from .dispatch import withdraw_queued

        now = timezone.now()
        text = f"Cancelled by {getattr(user, 'username', '') or 'staff'}."
        with transaction.atomic():
            Message.objects.filter(
                pk=self.pk,
                status__in=[self.Status.DRAFT, self.Status.SCHEDULED, self.Status.SENDING],
            ).update(status=self.Status.CANCELLED, completed_at=now)
            return withdraw_queued(self, text, now)


class Delivery(models.Model):
    """One recipient of one message. Its status moves only forward (see DeliveryStatus)."""

    # Indexed by (message, id) below, which serves the foreign key too.
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    # Denormalised from the message so a delivery report finds its row by (account, provider id)
    # through one index. No index of its own: (account, provider id) and (account, queued_at)
    # below both begin with it, and every delivery written paid for a third copy.
    account = models.ForeignKey(
        "providers.ProviderAccount", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    phone = models.CharField(max_length=32)
    # What this recipient was sent, where it differs from the message's body (a personalised
    # message); empty: the body.
    text = models.TextField(blank=True)
    status = models.CharField(
        max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED
    )
    provider_message_id = models.CharField(max_length=64, blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    error_text = models.TextField(blank=True)
    segments = models.PositiveSmallIntegerField(default=1)
    cost = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # The worker that moved the row to `sending` writes its token here, so it updates only the
    # rows it claimed, whatever other workers do.
    claim = models.CharField(max_length=32, blank=True)
    # While a worker sends a claimed row it renews this lease (its heartbeat); the sweeper takes
    # only rows whose lease ran out, so it never races a live batch.
    lease_until = models.DateTimeField(null=True, blank=True)
    # The reference a deduplicating provider remembers (ISMS `seqno`, 24 hours). Blank: the
    # delivery's own id. A retry of a delivery whose fate is unknown carries the original's, so
    # the provider answers "already received" instead of sending it twice.
    seqno = models.CharField(max_length=20, blank=True)
    # When that reference first went to the provider: a repeat is safe only while it remembers.
    first_sent_at = models.DateTimeField(null=True, blank=True)
    confirmed = models.BooleanField(
        default=True, help_text="False when the transport gives no answer (KwtSMS by email)."
    )
    # The message that retried this failed or unknown delivery (`sending.retry`): it keeps its
    # own status (it did fail), and a retry takes only the deliveries no message retried yet,
    # so a second press of Retry (a double click, later) cannot send them again. Indexed only
    # where set (below): almost no delivery is ever retried.
    retried_in = models.ForeignKey(
        Message,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    # Providers we poll for reports (KalaSMS): when to ask next, and how often we asked.
    next_poll_at = models.DateTimeField(null=True, blank=True)
    polls = models.PositiveSmallIntegerField(default=0)
    queued_at = models.DateTimeField(auto_now_add=True)
    sending_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    final_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["id"]
        indexes = [
            # The message page reads a message's rows in id order (keyset paging), all of
            # them or those of one status: both indexes end in the id.
            models.Index(fields=["message", "id"], name="delivery_message_id"),
            models.Index(fields=["message", "status", "id"], name="delivery_message_status_id"),
            models.Index(fields=["account", "provider_message_id"], name="delivery_provider_id"),
            models.Index(fields=["phone", "queued_at"], name="delivery_phone_history"),
            models.Index(fields=["queued_at"], name="delivery_queued_at"),
            # SMS Centre's flood rules read an account's last minutes of deliveries.
            models.Index(fields=["account", "queued_at"], name="delivery_account_recent"),
            # The sweeper's: rows being sent, by lease (and by claim time for rows claimed
            # before leases). Partial, so a delivery enters it when claimed and leaves it with
            # its outcome: the insert and the outcome no longer write a status index for it.
            # It begins with the (constant) status so SQLite's planner seeks it rather than
            # walking another index (tests/messaging/test_delivery_indexes.py).
            models.Index(
                fields=["status", "lease_until", "sending_at"],
                name="delivery_sending_lease",
                condition=models.Q(status="sending"),
            ),
            models.Index(fields=["claim"], name="delivery_claim"),
            # A message's retried deliveries by status (what is left to retry, on the message
            # page), and the retry's own (the foreign key's SET_NULL): both hold only the
            # retried rows, so no other delivery write pays for them.
            models.Index(
                fields=["message", "status"],
                name="delivery_retried",
                condition=models.Q(retried_in__isnull=False),
            ),
            models.Index(
                fields=["retried_in"],
                name="delivery_retried_in",
                condition=models.Q(retried_in__isnull=False),
            ),
            models.Index(
                fields=["account", "next_poll_at"],
                name="delivery_poll_due",
                condition=models.Q(status__in=["submitted", "unknown"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.phone} ({self.status})"

    @property
    def status_colour(self) -> str:
        return DeliveryStatus(self.status).colour

    @property
    def reference(self) -> str:
        """What a deduplicating provider is given to recognise a repeat of this delivery."""
        return self.seqno or str(self.pk)

    def refresh_status(self, backend=None) -> int:
        """Ask the provider what became of this delivery (where we poll: KalaSMS) and apply a
        settled answer as a poll's report. Returns how many deliveries changed (0 or 1).
        `backend` is the account's, given by a caller asking about many deliveries of one
        account. Raises the backend's ProviderError when it cannot say."""
        from .delivery_reports.apply import apply_status_update

        backend = backend or self.account.backend
        update = backend.delivery_status(self.provider_message_id)
        if update is None or update.status == DeliveryStatus.SUBMITTED:
            return 0
        return apply_status_update(backend.account, update, DeliveryEvent.Source.POLL)


class MessageStatusCount(models.Model):
    """How many of a message's deliveries are in each status: what the progress bar, the
    message page and the messages list read, so they cost the same at 10 deliveries or at a
    million.

    Kept by database triggers on the deliveries table (migration 0011), in the statement that
    changes a delivery: every path (the worker, both report paths, the sweeper, cancel, raw
    SQL, a delete) moves the counts with the row, in the same transaction, so they cannot
    drift. Nothing in Python writes it."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="status_counts")
    status = models.CharField(max_length=12, choices=DeliveryStatus.choices)
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message", "status"], name="message_status_count")
        ]

    def __str__(self) -> str:
        return f"{self.message_id}: {self.count} {self.status}"


class MessageUnknownCount(models.Model):
    """How many of a message's unknown deliveries were first sent at each moment (a claim gives
    its whole batch one `first_sent_at`): what the message page's retry warning reads to tell
    the unknown deliveries a deduplicating provider still remembers from those it has forgotten,
    without counting the deliveries on every poll. Unknown deliveries never sent are not
    counted (none is remembered).

    Kept like MessageStatusCount, by database triggers on the deliveries table (migration
    0022), in the statement that changes a delivery. Nothing in Python writes it."""

    # Indexed by the unique (message, first_sent_at) below, which serves the foreign key too.
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="unknown_counts", db_index=False
    )
    first_sent_at = models.DateTimeField()
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["message", "first_sent_at"], name="message_unknown_count"
            )
        ]

    def __str__(self) -> str:
        return f"{self.message_id}: {self.count} unknown, first sent {self.first_sent_at}"


class DeliveryPart(models.Model):
    """One part of a long text that the provider accepted under its own id (SMPP gives every
    submit_sm its own message id, and sends a receipt per part). Every part's id is kept so that
    each receipt finds its delivery; the delivery's status follows its parts (see
    `smsportal.messaging.parts.combined`)."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="parts")
    # Denormalised from the delivery so a receipt finds its part by (account, id) in one index.
    account = models.ForeignKey(
        "providers.ProviderAccount", on_delete=models.PROTECT, related_name="+"
    )
    number = models.PositiveSmallIntegerField()  # 1 for the first part
    provider_message_id = models.CharField(max_length=64)
    status = models.CharField(
        max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.SUBMITTED
    )

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="delivery_part_number")
        ]
        indexes = [
            models.Index(
                fields=["account", "provider_message_id"], name="delivery_part_provider_id"
            )
        ]

    def __str__(self) -> str:
        return f"part {self.number} {self.provider_message_id} ({self.status})"


class DeliveryEvent(models.Model):
    """Every change of a delivery's status, with where it came from and the raw payload: the
    delivery history the admin shows."""

    class Source(models.TextChoices):
        SUBMIT = "submit", "submit"
        WEBHOOK = "webhook", "webhook"
        POLL = "poll", "poll"
        SMPP = "smpp", "SMPP"
        SWEEPER = "sweeper", "sweeper"
        STAFF = "staff", "staff"

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="events")
    source = models.CharField(max_length=10, choices=Source.choices)
    from_status = models.CharField(max_length=12, choices=DeliveryStatus.choices)
    to_status = models.CharField(max_length=12, choices=DeliveryStatus.choices)
    provider_status = models.CharField(max_length=40, blank=True)
    description = models.TextField(blank=True)
    raw = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status} ({self.source})"


class UnmatchedReport(models.Model):
    """A delivery report whose provider id matched no delivery when it arrived. It may have
    overtaken our own write of that id; it is applied when a batch records the id, and kept (not
    dropped) if it never matches."""

    account = models.ForeignKey("providers.ProviderAccount", on_delete=models.CASCADE)
    provider_message_id = models.CharField(max_length=64)
    recipient = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=12, choices=DeliveryStatus.choices)
    provider_status = models.CharField(max_length=40, blank=True)
    description = models.TextField(blank=True)
    source = models.CharField(max_length=10, choices=DeliveryEvent.Source.choices)
    raw = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["account", "provider_message_id"],
                name="unmatched_open",
                condition=models.Q(applied_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider_message_id} → {self.status}"


class InboundMessage(models.Model):
    """An SMS someone sent to one of our numbers, as the provider pushed it to us."""

    account = models.ForeignKey(
        "providers.ProviderAccount", on_delete=models.CASCADE, related_name="inbound_messages"
    )
    sender = models.CharField(max_length=32, db_index=True)
    # The sender in E.164 where it parses (as every number we send to is kept), so an incoming
    # SMS and the replies to it meet in one conversation; a short code or name as it came.
    phone = models.CharField(max_length=32, blank=True)
    recipient = models.CharField(max_length=32, blank=True, help_text="Our short code or number.")
    text = models.TextField(blank=True)
    text_truncated = models.BooleanField(
        default=False, help_text="The text arrived longer than we keep and was cut."
    )
    raw = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(
                fields=["received_at"],
                name="inbound_unread",
                condition=models.Q(read_at__isnull=True),
            ),
            # A conversation's incoming side, newest first (keyset paging within a thread).
            models.Index(fields=["account", "phone", "received_at"], name="inbound_thread"),
        ]

    def __str__(self) -> str:
        return f"{self.sender}: {self.text[:40]}"


class DailyDeliveryStats(models.Model):
    """How many deliveries queued on `day` through `account` are now in `status` (queued counts
    queued and sending alike), and what they cost; `reason` is the error code of failures.

    A running summary, kept in step with every status change by `daily_stats.Transitions`, so
    dashboards and charts read a few hundred rows instead of scanning millions of deliveries.
    Messaging owns it (it owns the changes it counts); the reports app only reads it. The table
    keeps the name it had when the reports app held the model."""

    day = models.DateField()
    account = models.ForeignKey("providers.ProviderAccount", on_delete=models.CASCADE)
    # The department of the deliveries' message, so staff read only their departments' figures;
    # 0 for a message of no department. A number, not a nullable foreign key: NULLs never meet
    # in a unique key, so ON CONFLICT could not add to a row without a department.
    department_key = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=12, choices=DeliveryStatus.choices)
    reason = models.CharField(max_length=40, blank=True, default="")
    count = models.BigIntegerField(default=0)
    cost = models.DecimalField(max_digits=18, decimal_places=4, default=Decimal("0"))

    class Meta:
        db_table = "reports_dailydeliverystats"
        verbose_name_plural = "daily delivery stats"
        constraints = [
            models.UniqueConstraint(
                fields=["day", "account", "department_key", "status", "reason"],
                name="daily_stats_key",
            )
        ]
        indexes = [
            models.Index(fields=["day", "account"], name="daily_stats_day"),
            models.Index(fields=["department_key", "day"], name="daily_stats_department"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.account_id} {self.department_key} {self.status}: {self.count}"


class Conversation(models.Model):
    """One thread: a number and the account it writes through. A summary row kept up to date as
    SMS arrive and replies go (`smsportal.messaging.conversations`), so the Inbox reads one row
    per thread instead of grouping every message. A thread starts when a number writes to us;
    the thread itself shows everything sent to the number through the account, bulk sends
    included."""

    account = models.ForeignKey(
        "providers.ProviderAccount", on_delete=models.CASCADE, related_name="conversations"
    )
    phone = models.CharField(max_length=32)
    # The department whose thread this is: that of the last message sent to the number through
    # the account when it first wrote (the department it answers), else none (superusers only).
    department = models.ForeignKey(
        "departments.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="conversations",
        db_index=False,
    )
    last_at = models.DateTimeField("last activity")
    last_text = models.CharField(max_length=160, blank=True)
    last_incoming = models.BooleanField(default=True)
    unread = models.PositiveIntegerField(default=0)
    incoming = models.PositiveIntegerField("incoming SMS", default=0)
    replies = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-last_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "phone"], name="conversation_unique")
        ]
        indexes = [
            models.Index(fields=["-last_at", "-id"], name="conversation_recent"),
            models.Index(
                fields=["department", "-last_at", "-id"], name="conversation_department_recent"
            ),
            models.Index(fields=["phone"], name="conversation_phone"),
        ]

    def __str__(self) -> str:
        return f"{self.phone} via {self.account_id}"

    def get_absolute_url(self) -> str:
        return reverse("messaging:conversation", args=[self.pk])
