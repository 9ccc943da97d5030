"""Keyword rules, each account's STOP/START/HELP confirmations, and the record of automatic
replies (which also keeps them from looping)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from smsportal.sms.keywords import normalise

from .outcomes import outcome_text, shown_outcome

DEFAULT_STOP = "You will get no more messages from us. Send START to receive them again."
DEFAULT_STOP_ARABIC = "لن تصلك رسائل منا بعد الآن. أرسل اشتراك لتصلك من جديد."
DEFAULT_START = "You will receive our messages again. Send STOP to stop them."
DEFAULT_START_ARABIC = "ستصلك رسائلنا من جديد. أرسل إلغاء لإيقافها."
DEFAULT_HELP = "Send STOP to stop our messages, START to receive them again."
DEFAULT_HELP_ARABIC = "أرسل إلغاء لإيقاف رسائلنا، واشتراك لتصلك من جديد."


class Confirmations(models.Model):
    """What an account answers to STOP, START and HELP (in English, and in Arabic when the
    keyword came in Arabic), and how it keeps automatic replies from looping. An empty text sends
    nothing for that keyword."""

    account = models.OneToOneField(
        "providers.ProviderAccount", on_delete=models.CASCADE, related_name="confirmations"
    )
    stop_text = models.TextField(_("reply to STOP"), blank=True, default=DEFAULT_STOP)
    stop_text_arabic = models.TextField(
        _("reply to STOP in Arabic"), blank=True, default=DEFAULT_STOP_ARABIC
    )
    start_text = models.TextField(_("reply to START"), blank=True, default=DEFAULT_START)
    start_text_arabic = models.TextField(
        _("reply to START in Arabic"), blank=True, default=DEFAULT_START_ARABIC
    )
    help_text = models.TextField(_("reply to HELP"), blank=True, default=DEFAULT_HELP)
    help_text_arabic = models.TextField(
        _("reply to HELP in Arabic"), blank=True, default=DEFAULT_HELP_ARABIC
    )
    # A number gets at most one automatic reply in this many minutes: an auto-responder at the
    # other end answering our reply gets no answer back, so two machines never talk forever.
    window_minutes = models.PositiveIntegerField(
        _("quiet time after a reply (minutes)"), default=10
    )
    daily_limit = models.PositiveIntegerField(_("automatic replies per number per day"), default=5)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "confirmations"

    def __str__(self) -> str:
        return f"Confirmations of {self.account}"

    def text_for(self, kind: str, arabic: bool) -> str:
        english = getattr(self, f"{kind}_text")
        return (getattr(self, f"{kind}_text_arabic") if arabic else english) or english


class KeywordRule(models.Model):
    class Match(models.TextChoices):
        FIRST_WORD = "first", _("first word")
        EXACT = "exact", _("whole message")

    account = models.ForeignKey(
        "providers.ProviderAccount",
        on_delete=models.CASCADE,
        related_name="keyword_rules",
        help_text=_("Incoming SMS through this account only."),
    )
    keyword = models.CharField(max_length=60)
    # The keyword as compared (case, accents and Arabic letter forms folded): kept by save().
    keyword_key = models.CharField(max_length=60, editable=False)
    match = models.CharField(max_length=5, choices=Match.choices, default=Match.FIRST_WORD)
    reply = models.TextField(_("automatic reply"), blank=True)
    add_to_list = models.ForeignKey(
        "contacts.ContactList",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("add the sender to"),
    )
    remove_from_list = models.ForeignKey(
        "contacts.ContactList",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("remove the sender from"),
    )
    forward_to = models.EmailField(_("forward by e-mail to"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["keyword", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "keyword_key", "match"], name="keyword_rule_unique"
            )
        ]
        indexes = [models.Index(fields=["keyword_key", "account"], name="keyword_rule_lookup")]

    def __str__(self) -> str:
        return self.keyword

    def save(self, *args, **kwargs):
        self.keyword_key = normalise(self.keyword)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        from .services import reserved_reason

        self.keyword_key = normalise(self.keyword)
        if not self.keyword_key:
            raise ValidationError({"keyword": "Write the keyword."})
        if reason := reserved_reason(self.keyword_key):
            raise ValidationError({"keyword": reason})
        twins = KeywordRule.objects.filter(
            account_id=self.account_id, keyword_key=self.keyword_key, match=self.match
        ).exclude(pk=self.pk)
        if self.account_id and twins.exists():
            raise ValidationError({"keyword": "This account already has a rule for this keyword."})
        if not (
            self.reply.strip() or self.add_to_list_id or self.remove_from_list_id or self.forward_to
        ):
            raise ValidationError(
                _("The rule does nothing: write a reply, or choose a list or an e-mail address.")
            )
        if self.add_to_list_id and self.add_to_list_id == self.remove_from_list_id:
            raise ValidationError(
                _("A rule cannot add the sender to a list and remove them from it.")
            )


class ReplyGate(models.Model):
    """One row per number and account: when it last got an automatic reply, and how many today.
    Taken by one conditional UPDATE (`services.take_gate`), so two SMS from the same number
    handled at once on two workers still earn one reply."""

    account = models.ForeignKey("providers.ProviderAccount", on_delete=models.CASCADE)
    phone = models.CharField(max_length=32)
    last_reply_at = models.DateTimeField(default=timezone.now)
    day_started_at = models.DateTimeField(default=timezone.now)
    day_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "phone"], name="reply_gate_unique")
        ]

    def __str__(self) -> str:
        return f"{self.phone} last replied {timezone.localtime(self.last_reply_at):%Y-%m-%d %H:%M}"


class AutoReply(models.Model):
    """What the portal did about one incoming keyword: the reply it sent (or why not), and the
    actions it took. The Keywords page lists them."""

    class Kind(models.TextChoices):
        STOP = "stop", _("STOP confirmation")
        START = "start", _("START confirmation")
        HELP = "help", _("HELP reply")
        RULE = "rule", _("keyword rule")

    account = models.ForeignKey("providers.ProviderAccount", on_delete=models.CASCADE)
    phone = models.CharField(max_length=32)
    inbound = models.ForeignKey(
        "messaging.InboundMessage", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=5, choices=Kind.choices)
    rule = models.ForeignKey(KeywordRule, null=True, blank=True, on_delete=models.SET_NULL)
    message = models.ForeignKey(
        "messaging.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What happened, as notes (outcomes.Note): written in the reader's language when shown.
    notes = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["account", "phone", "created_at"], name="autoreply_number"),
            models.Index(fields=["-created_at", "-id"], name="autoreply_recent"),
        ]
        verbose_name_plural = "automatic replies"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.phone}: {self.outcome}"

    @property
    def outcome(self) -> str:
        """The outcome in the reader's language, as plain text."""
        return outcome_text(self.notes)

    @property
    def shown_outcome(self) -> str:
        """The outcome in the reader's language, for a page."""
        return shown_outcome(self.notes)
