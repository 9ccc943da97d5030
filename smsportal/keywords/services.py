"""What an incoming keyword does: STOP/START/HELP confirmations and keyword rules.

Ingest (`on_inbound`, inside the provider's webhook) only looks the message up among the
account's rule keywords — kept in memory (`rule_keys`), no query — and queues
`tasks.handle_keyword` when something must happen; the reply, list changes and e-mail run in
that task, which reads the rule from the database again. Every reply goes through the one send path
(`messaging.replies`), and through the gate first: at most one automatic reply per number and
account in the quiet window, and at most the daily limit — so an auto-responder at the other end
can never make two machines talk forever. Nothing goes to an opted-out number except the one
confirmation of its STOP.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.core.cache import cache
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from smsportal.contacts.models import Contact, Membership
from smsportal.core.queueing import enqueue_on_commit
from smsportal.messaging import inbound as messaging_inbound
from smsportal.messaging.conversations import department_of_thread, record_reply_to
from smsportal.messaging.models import InboundMessage
from smsportal.messaging.replies import confirm_opt_out, send_to_one
from smsportal.messaging.sending import SendRefused
from smsportal.sms.keywords import is_arabic, normalise

from .models import AutoReply, Confirmations, KeywordRule, ReplyGate
from .outcomes import Note, note

log = logging.getLogger(__name__)

RESERVED = (
    ("STOP", messaging_inbound.opt_out_keywords, "the opt-out keyword"),
    ("START", messaging_inbound.opt_in_keywords, "the keyword that lifts an opt-out"),
    ("HELP", messaging_inbound.help_keywords, "the help keyword"),
)


def reserved_reason(key: str) -> str:
    """Why `key` (normalised) cannot be a rule's keyword, or ''."""
    for name, keywords, role in RESERVED:
        if key in keywords():
            return (
                f"“{key}” is {role} ({name}): the portal answers it with the confirmation "
                "set for the account, so a rule cannot use it."
            )
    return ""


def matching_rule(account_id: int, text: str) -> KeywordRule | None:
    """The active rule `text` triggers: a whole-message rule before a first-word one."""
    whole = normalise(text)[:60]
    first = messaging_inbound.keyword_of(text)[:60]
    if not whole:
        return None
    rules = KeywordRule.objects.filter(account_id=account_id, is_active=True).filter(
        Q(match=KeywordRule.Match.EXACT, keyword_key=whole)
        | Q(match=KeywordRule.Match.FIRST_WORD, keyword_key=first)
    )
    return min(rules, key=lambda r: (r.match != KeywordRule.Match.EXACT, r.pk), default=None)


# The keywords of each account's active rules, read once and kept for a few seconds: every
# incoming SMS is checked against them, and a query per SMS was a fifth of ingest's work. Saving
# or deleting a rule forgets them at once in this process (and in every process when the cache
# is shared); other processes read them again within RULE_KEYS_SECONDS. A stale "yes" costs
# nothing (the task finds no rule and does nothing); a rule saved a moment ago may miss an SMS
# arriving at another web process within those seconds.
RULE_KEYS_SECONDS = 5


def _rule_keys_cache_key(account_id: int) -> str:
    return f"keywords:rule-keys:{account_id}"


def rule_keys(account_id: int) -> tuple[frozenset[str], frozenset[str]]:
    """(whole-message keys, first-word keys) of the account's active rules."""
    key = _rule_keys_cache_key(account_id)
    found = cache.get(key)
    if found is None:
        exact, first = set(), set()
        for keyword_key, match in KeywordRule.objects.filter(
            account_id=account_id, is_active=True
        ).values_list("keyword_key", "match"):
            (exact if match == KeywordRule.Match.EXACT else first).add(keyword_key)
        found = (frozenset(exact), frozenset(first))
        cache.set(key, found, RULE_KEYS_SECONDS)
    return found


@receiver([post_save, post_delete], sender=KeywordRule)
def _forget_rule_keys(sender, instance: KeywordRule, **kwargs) -> None:
    cache.delete(_rule_keys_cache_key(instance.account_id))


def may_match(account_id: int, text: str) -> bool:
    """Whether `text` triggers one of the account's rules, as `matching_rule` decides it, from
    the keywords kept in memory."""
    whole = normalise(text)[:60]
    if not whole:
        return False
    exact, first = rule_keys(account_id)
    return whole in exact or (bool(first) and messaging_inbound.keyword_of(text)[:60] in first)


def kind_of(keyword: str, opt: str) -> str:
    if opt == messaging_inbound.OPTED_OUT or keyword in messaging_inbound.opt_out_keywords():
        return AutoReply.Kind.STOP
    if keyword in messaging_inbound.opt_in_keywords():
        return AutoReply.Kind.START
    if keyword in messaging_inbound.help_keywords():
        return AutoReply.Kind.HELP
    return ""


def on_inbound(sender, message: InboundMessage, keyword: str, opt: str, **kwargs) -> None:
    """Queue the keyword's work, if there is any (runs at ingest, inside the transaction that
    stores the SMS: no query unless the account's rule keywords must be read again)."""
    from .tasks import handle_keyword

    if kind_of(keyword, opt) or may_match(message.account_id, message.text):
        enqueue_on_commit(handle_keyword, message.pk, opt)


def confirmations_for(account) -> Confirmations:
    try:
        return account.confirmations
    except Confirmations.DoesNotExist:
        confirmations, _ = Confirmations.objects.get_or_create(account=account)
        return confirmations


def take_gate(account_id: int, phone: str, window: timedelta, daily_limit: int) -> dict | None:
    """Claim the right to send `phone` one automatic reply now: None when granted, else the
    note of why not. One conditional UPDATE, so racing workers cannot both win."""
    now = timezone.now()
    day_ago = now - timedelta(days=1)
    try:
        with transaction.atomic():
            ReplyGate.objects.create(
                account_id=account_id, phone=phone, last_reply_at=now, day_count=1
            )
        return None
    except IntegrityError:
        pass  # the number had replies before: the conditional update decides
    if daily_limit < 1:
        return note(Note.SWITCHED_OFF)
    granted = (
        ReplyGate.objects.filter(
            account_id=account_id, phone=phone, last_reply_at__lte=now - window
        )
        .filter(Q(day_started_at__lte=day_ago) | Q(day_count__lt=daily_limit))
        .update(
            last_reply_at=now,
            day_count=Case(
                When(day_started_at__lte=day_ago, then=Value(1)), default=F("day_count") + 1
            ),
            day_started_at=Case(
                When(day_started_at__lte=day_ago, then=Value(now)), default=F("day_started_at")
            ),
        )
    )
    if granted:
        return None
    gate = ReplyGate.objects.get(account_id=account_id, phone=phone)
    if gate.last_reply_at > now - window:
        return note(Note.QUIET_TIME, minutes=max(1, int(window.total_seconds() // 60)))
    return note(Note.DAILY_LIMIT, count=daily_limit)


def handle(inbound_id: int, opt: str) -> AutoReply | None:
    """Do what the keyword of incoming SMS `inbound_id` asks; the record of it, or None."""
    message = InboundMessage.objects.select_related("account").filter(pk=inbound_id).first()
    if message is None:
        return None
    keyword = messaging_inbound.keyword_of(message.text)
    kind = kind_of(keyword, opt)
    rule = None if kind else matching_rule(message.account_id, message.text)
    if not kind and rule is None:
        return None
    record = AutoReply(
        account=message.account,
        phone=message.phone,
        inbound=message,
        kind=kind or AutoReply.Kind.RULE,
        rule=rule,
    )
    notes = []
    if rule is not None:
        notes += _actions(rule, message)
    text = _reply_text(message, kind, rule)
    if kind == AutoReply.Kind.STOP and opt != messaging_inbound.OPTED_OUT:
        notes.append(note(Note.ALREADY_OPTED_OUT))
    elif text:
        notes.append(_reply(record, message, text, kind))
    else:
        notes.append(note(Note.NO_REPLY_SET))
    record.notes = notes
    record.save()
    return record


def _reply_text(message: InboundMessage, kind: str, rule: KeywordRule | None) -> str:
    if rule is not None:
        return rule.reply.strip()
    return confirmations_for(message.account).text_for(kind, is_arabic(message.text)).strip()


def _reply(record: AutoReply, message: InboundMessage, text: str, kind: str) -> dict:
    settings = confirmations_for(message.account)
    refusal = take_gate(
        message.account_id,
        message.phone,
        timedelta(minutes=settings.window_minutes),
        settings.daily_limit,
    )
    if refusal:
        return refusal
    # The reply is the thread's department's message (its quota, its pages).
    department = department_of_thread(message.account_id, message.phone)
    try:
        if kind == AutoReply.Kind.STOP:
            sent = confirm_opt_out(message.account, message.phone, text, department)
            if sent is None:
                return note(Note.CONFIRMED_ALREADY)
        else:
            sent, _ = send_to_one(message.account, message.phone, text, department=department)
    except SendRefused as exc:
        return note(Note.REFUSED, reason=str(exc))
    record.message = sent

    record_reply_to(message.account_id, message.phone, text)
    return note(Note.REPLIED)


def _actions(rule: KeywordRule, message: InboundMessage) -> list[dict]:
    notes = []
    phone = message.phone[:20]
    if rule.add_to_list_id or rule.remove_from_list_id:
        if rule.add_to_list_id:
            # The sender becomes (or is) a contact of the list's department.
            contact, _ = Contact.objects.get_or_create(
                phone=phone, department_id=rule.add_to_list.department_id
            )
            added = rule.add_to_list.add([contact.pk])
            notes.append(
                note(Note.ADDED_TO if added else Note.ALREADY_ON, list=rule.add_to_list.name)
            )
        if rule.remove_from_list_id:
            removed, _ = Membership.objects.filter(
                contact_list_id=rule.remove_from_list_id, contact__phone=phone
            ).delete()
            notes.append(
                note(Note.REMOVED_FROM if removed else Note.NOT_ON, list=rule.remove_from_list.name)
            )
    if rule.forward_to:
        notes.append(_forward(rule, message))
    return notes


def _forward(rule: KeywordRule, message: InboundMessage) -> dict:
    try:
        send_mail(
            subject=f"SMS from {message.phone}: {rule.keyword}",
            message=(
                f"From: {message.phone}\nTo: {message.recipient or message.account.name}\n"
                f"Received: {message.received_at:%Y-%m-%d %H:%M:%S %Z}\n\n{message.text}\n"
            ),
            from_email=None,
            recipient_list=[rule.forward_to],
        )
    except Exception as exc:  # an SMTP failure of any kind is recorded, never lost silently
        log.warning("Forwarding SMS %s to %s failed: %s", message.pk, rule.forward_to, exc)
        return note(Note.FORWARD_FAILED, address=rule.forward_to, error=exc.__class__.__name__)
    return note(Note.FORWARDED, address=rule.forward_to)
