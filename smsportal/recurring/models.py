"""Recurring sends: a text sent to lists on a schedule, and the record of every occurrence.

Each occurrence creates one message through the one send path, to the lists' members as they are
at that moment. `Occurrence` is unique per schedule and time, and is written in the same
transaction that creates the message and moves `next_at` on: an occurrence is sent at most once,
whatever runs twice."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from . import rules
from .reasons import Reason, reason, reason_text, shown_reason


class RecurringSendQuerySet(models.QuerySet):
    def with_last_occurrence(self) -> RecurringSendQuerySet:
        """Each schedule's latest occurrence read for all of them in one query (a list shows
        every schedule's state, which depends on it)."""
        latest = Occurrence.objects.order_by("-due_at")[:1]
        return self.prefetch_related(
            models.Prefetch("occurrences", queryset=latest, to_attr="latest_occurrences")
        )


class RecurringSend(models.Model):
    class Frequency(models.TextChoices):
        DAILY = rules.DAILY, _("Daily")
        WEEKLY = rules.WEEKLY, _("Weekly, on chosen days")
        MONTHLY = rules.MONTHLY, _("Monthly, on a day")
        INTERVAL = rules.INTERVAL, _("Every few minutes")

    class Missed(models.TextChoices):
        SEND_LATE = "late", _("Send it once, late")
        SKIP = "skip", _("Skip it")

    name = models.CharField(max_length=100)
    account = models.ForeignKey("providers.ProviderAccount", on_delete=models.PROTECT)
    sender = models.CharField(max_length=20, blank=True)
    text = models.TextField()
    lists = models.ManyToManyField("contacts.ContactList", blank=True)
    frequency = models.CharField(max_length=8, choices=Frequency.choices)
    weekdays = models.JSONField(default=list, blank=True)  # 0 = Monday
    day_of_month = models.PositiveSmallIntegerField(null=True, blank=True)
    interval_minutes = models.PositiveIntegerField(null=True, blank=True)
    time_of_day = models.TimeField()
    timezone = models.CharField(max_length=64)
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    max_occurrences = models.PositiveIntegerField(null=True, blank=True)
    on_missed = models.CharField(max_length=4, choices=Missed.choices, default=Missed.SEND_LATE)
    paused = models.BooleanField(default=False)
    # The next occurrence to fire (UTC); None once the schedule has ended.
    next_at = models.DateTimeField(null=True, blank=True, db_index=True)
    occurrences_done = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    # Each occurrence is this department's message (its quota, its pages). Empty only on rows
    # made before departments; the form asks for one.
    department = models.ForeignKey(
        "departments.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="recurring_sends",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RecurringSendQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = "recurring send"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("recurring:detail", args=[self.pk])

    @property
    def rule(self) -> rules.Rule:
        return rules.Rule(
            frequency=self.frequency,
            time_of_day=self.time_of_day,
            timezone=self.timezone,
            starts_on=self.starts_on,
            ends_on=self.ends_on,
            weekdays=tuple(self.weekdays or ()),
            day_of_month=self.day_of_month,
            interval_minutes=self.interval_minutes,
        )

    @property
    def ended(self) -> bool:
        return self.next_at is None

    @property
    def last_occurrence(self) -> Occurrence | None:
        """What the schedule did last (None before its first time): prefetched for a list by
        `with_last_occurrence()`, read here otherwise."""
        if not hasattr(self, "latest_occurrences"):
            self.latest_occurrences = list(self.occurrences.order_by("-due_at")[:1])
        return self.latest_occurrences[0] if self.latest_occurrences else None

    @property
    def state(self) -> str:
        """ "refused" while its latest send was refused: it still runs, but while the cause (a
        retired sender ID, an empty list, the quota) lasts nothing goes out, which a green
        "active" hid."""
        if self.ended:
            return "ended"
        if self.paused:
            return "paused"
        last = self.last_occurrence
        return "refused" if last and last.status == Occurrence.Status.FAILED else "active"

    def remaining(self) -> int | None:
        """Sends left before the count ends the schedule. The count is of the times the
        schedule used: sent, or passed by as it says (missed while no worker ran, skipped); a
        refused send sent nothing, so it is not counted and the schedule goes on to its next
        time ("3 sends in all" is 3 messages when nothing was missed)."""
        if self.max_occurrences is None:
            return None
        return max(self.max_occurrences - self.occurrences_done, 0)

    def upcoming(self, count: int = 5) -> list[datetime]:
        """The next `count` occurrences (fewer when the schedule ends before)."""
        if self.next_at is None:
            return []
        remaining = self.remaining()
        count = count if remaining is None else min(count, remaining)
        if count <= 0:
            return []
        return [self.next_at, *self.rule.upcoming(self.next_at, count - 1)][:count]

    def plan(self, now: datetime | None = None) -> None:
        """Set `next_at` from the rule: the first occurrence from now (not yet saved). Used when
        a schedule is made, edited or resumed: what was missed while paused is not sent."""
        now = now or timezone.now()
        remaining = self.remaining()
        if remaining == 0:
            self.next_at = None
            return
        self.next_at = self.rule.next_after(now - timedelta(seconds=1))

    def fire(self, now: datetime | None = None) -> Occurrence | None:
        """Act on the occurrences due by `now`: the latest is sent (or, when it is late and the
        schedule says so, skipped); earlier ones missed while no worker ran are recorded with it
        and never sent. Returns the occurrence acted on, or None when nothing was due (another
        worker got there first)."""
        from .sending import send_occurrence

        now = now or timezone.now()
        with transaction.atomic():
            schedule = RecurringSend.objects.select_for_update().filter(pk=self.pk).first()
            if not schedule or schedule.paused or not schedule.next_at or schedule.next_at > now:
                return None
            due = [schedule.next_at]
            for at in schedule.rule.after(schedule.next_at):
                if at > now or len(due) >= MAX_CATCH_UP:
                    break
                due.append(at)
            remaining = schedule.remaining()
            if remaining is not None:
                due = due[:remaining]
            occurrence = Occurrence(schedule=schedule, due_at=due[-1], missed_before=len(due) - 1)
            late = now - occurrence.due_at > timedelta(seconds=settings.RECURRING_LATE_SECONDS)
            if late and schedule.on_missed == self.Missed.SKIP:
                occurrence.status = Occurrence.Status.SKIPPED
                occurrence.note = reason(Reason.MISSED)
                occurrence.save()
            else:
                occurrence.late = late
                send_occurrence(schedule, occurrence)
            # A refused send sent nothing: it does not use up the count (see remaining()).
            refused = occurrence.status == Occurrence.Status.FAILED
            schedule.occurrences_done += len(due) - 1 if refused else len(due)
            schedule.next_at = schedule.rule.next_after(due[-1])
            if schedule.remaining() == 0:
                schedule.next_at = None
            schedule.save(update_fields=["occurrences_done", "next_at"])
        self.refresh_from_db()
        self.__dict__.pop("latest_occurrences", None)  # read again: this occurrence is the latest
        return occurrence


# Occurrences looked at in one catch-up (every minute for a week is 10,080): beyond it the rest
# are skipped in the next round, still never sent twice.
MAX_CATCH_UP = 20_000


class Occurrence(models.Model):
    class Status(models.TextChoices):
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Skipped"
        FAILED = "failed", "Not sent"

    schedule = models.ForeignKey(
        RecurringSend, on_delete=models.CASCADE, related_name="occurrences"
    )
    due_at = models.DateTimeField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.SENT)
    late = models.BooleanField(default=False)
    # Earlier occurrences missed while no worker ran, settled by this one (never sent).
    missed_before = models.PositiveIntegerField(default=0)
    message = models.ForeignKey(
        "messaging.Message", null=True, blank=True, on_delete=models.SET_NULL
    )
    # Why it sent nothing, as a code and its values (reasons.Reason), written in the reader's
    # language when shown; empty when it was sent.
    note = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-due_at"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "due_at"], name="occurrence_once")
        ]

    def __str__(self) -> str:
        return f"{self.schedule} at {timezone.localtime(self.due_at):%Y-%m-%d %H:%M}"

    @property
    def reason(self) -> str:
        """Why it sent nothing, in the reader's language, as plain text ("" when it was sent)."""
        return reason_text(self.note)

    @property
    def shown_reason(self) -> SafeString:
        """Why it sent nothing, in the reader's language, for a page."""
        return shown_reason(self.note)
