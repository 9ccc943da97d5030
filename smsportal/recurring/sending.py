"""One occurrence of a recurring send, through the one send path (`sending.prepare` and `send`):
the lists' members as they are now, opted-out numbers skipped, every check compose runs, the
balance, the sender ID still usable (a Manager may have retired it since the schedule was
saved), and each member's own text where the text has placeholders."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from smsportal.contacts import selectors as contacts
from smsportal.messaging import message_types, sending
from smsportal.messaging.recipients import resolve
from smsportal.messaging.sending import SendRefused

from .models import Occurrence, RecurringSend
from .reasons import of_refusal


def send_occurrence(schedule: RecurringSend, occurrence: Occurrence) -> None:
    """Create the occurrence's message and record it on `occurrence` (saved), or record why it
    was not sent. Runs inside the caller's transaction."""
    list_ids = list(schedule.lists.values_list("pk", flat=True))
    summary = resolve(
        "",
        settings.PHONE_DEFAULT_REGION,
        listed=contacts.members(list_ids),
        opted_out=contacts.opted_out,
    )
    try:
        if not summary.phones:
            raise SendRefused(
                _("The lists have no one to send to (empty, or every member opted out)."),
                code="no_recipients",
            )
        body, personal = message_types.as_written(schedule.text, message_types.TEXT)
        draft = sending.prepare(
            account=schedule.account,
            body=body,
            personal=personal,
            sender=schedule.sender,
            recipients=summary.resolved(),
            user=schedule.created_by,
            department=schedule.department,
            # A second guard beside the occurrence's own uniqueness. No form can write this key
            # (a form's is kept under its person's prefix, messaging/idempotency.py), and a
            # message of another sender holding it is refused, not taken for this one.
            idempotency_key=f"recurring:{schedule.pk}:{occurrence.due_at:%Y%m%d%H%M}",
        )
        message = sending.send(draft)
    except SendRefused as exc:
        occurrence.status = Occurrence.Status.FAILED
        occurrence.note = of_refusal(exc)
    else:
        occurrence.status = Occurrence.Status.SENT
        occurrence.message = message
    occurrence.save()


def run_due(now=None) -> int:
    """Fire every active schedule that is due; returns how many occurrences were acted on."""
    from django.utils import timezone

    now = now or timezone.now()
    fired = 0
    due = RecurringSend.objects.filter(paused=False, next_at__lte=now).order_by("next_at")
    for schedule in due:
        if schedule.fire(now):
            fired += 1
    return fired
