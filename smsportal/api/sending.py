"""A send through the API: the compose form's checks, then the one send path.

The compose form validates the fields as it does on the page (account active, sender ID an
active one of the account and allowed by its provider, the message type offered by the account,
binary octets, the barcode format, a time in the future); recipients are resolved as compose
resolves them (pasted numbers and list members, de-duplicated, opted-out numbers skipped); then
`messaging.sending.prepare` runs every check a send must pass (parts limit, account active,
opt-outs, the backend's own check, flood rules, affordability) and `send` creates the message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils.datastructures import MultiValueDict

from smsportal.contacts import selectors as contacts
from smsportal.messaging import message_types, routed, sending
from smsportal.messaging.forms import AUTOMATIC as COMPOSE_AUTOMATIC
from smsportal.messaging.forms import ComposeForm
from smsportal.messaging.models import Message
from smsportal.messaging.recipients import resolve

from .fields import AUTOMATIC
from .problems import refused

# compose form field -> API field, for error messages
FIELD_NAMES = {
    "recipients": "to",
    "message_type": "type",
    "scheduled_for": "schedule_at",
    "__all__": "",
}
MAX_OUTCOMES = 1000  # per-recipient lines in the answer; the counts are always complete


@dataclass
class Outcome:
    message: Message | None  # None until it is created
    queued: list[str]
    skipped: list[tuple[str, str]]
    duplicates: int
    messages: list[Message] = field(default_factory=list)  # account "automatic": all of them

    def summary(self, *, skipped_first: bool = False) -> dict:
        """The counts, and a line per recipient up to MAX_OUTCOMES: the queued first, or, for a
        preview (`skipped_first`), those left out, whom the caller came to find."""
        queued = [{"to": phone, "outcome": "queued"} for phone in self.queued[:MAX_OUTCOMES]]
        skipped = [
            {"to": number, "outcome": "skipped", "reason": reason}
            for number, reason in self.skipped[:MAX_OUTCOMES]
        ]
        lines = (skipped + queued if skipped_first else queued + skipped)[:MAX_OUTCOMES]
        return {
            "queued": len(self.queued),
            "skipped": len(self.skipped),
            "duplicates": self.duplicates,
            "outcomes": lines,
            "outcomes_complete": len(lines) == len(self.queued) + len(self.skipped),
        }


class InvalidSend(Exception):
    """The compose form refused a field: {api field: [messages]}."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def compose_form(data: dict) -> ComposeForm:
    kind = data.get("type", message_types.TEXT)
    values = {
        "account": [_account_choice(data["account"])],
        "sender": [data.get("sender", "")],
        "recipients": ["\n".join(data.get("to", []))],
        "lists": [str(contact_list.pk) for contact_list in data.get("lists", [])],
        "text": [data["text"]],
        "message_type": [kind],
        "barcode_format": [data.get("barcode_format", "")],
        "scheduled_for": [data.get("schedule_at") or ""],
    }
    if data.get("binary_udh", True):
        values["binary_udh"] = ["on"]
    return ComposeForm(MultiValueDict(values))


def send(
    data: dict, user, department=None, record: Callable[[Outcome], None] | None = None
) -> Outcome:
    """Check and create the message, as `department` (the key's); raises InvalidSend or a
    `refused` Problem, creating nothing, exactly where compose would refuse. `record(outcome)`
    runs inside the transaction that creates the message (see sending.send's `also`)."""
    form = compose_form(data)
    if not form.is_valid():
        raise InvalidSend(
            {FIELD_NAMES.get(name, name): list(messages) for name, messages in form.errors.items()}
        )
    cleaned = form.cleaned_data
    # For one account opted-out numbers are not looked up here: `prepare` looks them up (it
    # always does) and lists them as skipped, "opted out", as compose's resolution would have.
    # The routes are chosen for the numbers left, so a routed send looks them up first.
    summary = resolve(
        cleaned["recipients"],
        settings.PHONE_DEFAULT_REGION,
        listed=contacts.members([contact_list.pk for contact_list in cleaned["lists"]]),
        opted_out=contacts.opted_out if form.automatic else None,
    )
    resolved = summary.resolved()
    if form.automatic:
        return _send_routed(form, resolved, summary.duplicates, user, department, record)
    try:
        body, personal = message_types.as_written(cleaned["text"], form.kind)
        draft = sending.prepare(
            account=cleaned["account"],
            body=body,
            personal=personal,
            sender=cleaned["sender"],
            recipients=resolved,
            **form.type_options(),
            scheduled_for=cleaned["scheduled_for"],
            user=user,
            department=department,
        )
    except sending.SendRefused as exc:
        raise refused(exc.code, str(exc)) from exc
    outcome = Outcome(None, list(draft.phones), list(draft.skipped), summary.duplicates)

    def created(message: Message) -> None:
        outcome.message = message
        if record is not None:
            record(outcome)

    try:
        outcome.message = sending.send(draft, also=created)
    except sending.SendRefused as exc:  # a quota filled up since the check (quota_step.take)
        raise refused(exc.code, str(exc)) from exc
    return outcome


def _account_choice(account) -> str:
    return COMPOSE_AUTOMATIC if account == AUTOMATIC else str(account.pk)


def _send_routed(
    form: ComposeForm, resolved, duplicates: int, user, department, record=None
) -> Outcome:
    """Account "automatic": the routes choose each recipient's account, one message per
    account and route, all created or none (messaging.routed), as Compose's "Automatic".
    `record(outcome)` runs in the transaction that creates them."""
    cleaned = form.cleaned_data
    try:
        body, personal = message_types.as_written(cleaned["text"], form.kind)
        draft = routed.prepare_routed(
            body=body,
            personal=personal,
            sender=cleaned["sender"],
            recipients=resolved,
            **form.type_options(),
            scheduled_for=cleaned["scheduled_for"],
            user=user,
            department=department,
        )
        queued = [phone for part in draft.drafts for phone in part.phones]
        skipped = [pair for part in draft.drafts for pair in part.skipped]
        with transaction.atomic():
            messages = routed.send_routed(draft)
            outcome = Outcome(messages[0], queued, skipped, duplicates, messages)
            if record is not None:
                record(outcome)
    except sending.SendRefused as exc:
        raise refused(exc.code, str(exc)) from exc
    return outcome
