"""Sending with the account "Automatic": routing (smsportal.routing) chooses each recipient's
account, and the send becomes one message per account and route (the route is kept on it, for
failover and the route reports), each prepared and sent by the one send path
(`sending.prepare` / `sending.send`), so every check runs for every part of it.

Recipients no route can carry (no matching rule, no capable account, no valid sender ID) are
refused with the reason: shown in the preview, and recorded as skipped on the first message,
never sent by a route no one meant."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from smsportal.providers.backends.base import MessageType
from smsportal.providers.models import ProviderAccount
from smsportal.routing.service import router_for

from .models import Message
from .sending import (
    Draft,
    ResolvedRecipients,
    SendRefused,
    analyse_for,
    prepare,
    send,
    sent_with,
)

NO_ROUTE = "no route"


@dataclass(frozen=True)
class RoutedDraft:
    """What "Automatic" will do: a Draft per account, and the recipients refused with why."""

    drafts: tuple[Draft, ...]
    refused: tuple[tuple[str, str], ...] = ()
    routes: tuple[int | None, ...] = ()  # each draft's route (Route id)
    sender: str = ""  # the sender ID asked for, before each account's mapping

    @property
    def recipient_count(self) -> int:
        return sum(d.recipient_count for d in self.drafts)

    @property
    def cost(self) -> Decimal:
        return sum((d.cost for d in self.drafts), Decimal("0"))


def plan(*, body: str, phones: list[str], sender: str = "", message_type: str = MessageType.TEXT):
    """(account -> phones, refused [(phone, reason)], the router): the split alone, for the
    preview; nothing is checked beyond routing."""
    router = router_for(body=body, message_type=message_type, sender=sender)
    split = router.split(phones)
    return split, router


@dataclass(frozen=True)
class Share:
    """The recipients one account will carry, from which sender ID, at what cost."""

    account: ProviderAccount
    phones: list[str]
    parts: int  # SMS per recipient, as this account counts the text
    sender: str
    cost: Decimal
    routes: list[str]

    @property
    def recipients(self) -> int:
        return len(self.phones)


@dataclass(frozen=True)
class RefusedGroup:
    """The recipients refused for one reason: a few named, the rest counted."""

    reason: str
    count: int
    shown: list[str]

    @property
    def more(self) -> int:
        return self.count - len(self.shown)


@dataclass(frozen=True)
class Preview:
    """What "Automatic" would do, before anything is checked or sent: the shares by account
    (most recipients first) and the recipients refused with the reason."""

    shares: list[Share]
    refused: list[tuple[str, str]]  # (phone, reason), in the order given

    @property
    def recipient_count(self) -> int:
        return sum(share.recipients for share in self.shares)

    @property
    def cost(self) -> Decimal:
        return sum((share.cost for share in self.shares), Decimal("0"))

    def refused_groups(self, shown: int = 5) -> list[RefusedGroup]:
        """The refused recipients by reason, the commonest reason first, `shown` numbers of
        each named (staff fix the numbers or the routes from them)."""
        by_reason: dict[str, list[str]] = defaultdict(list)
        for phone, reason in self.refused:
            by_reason[reason].append(phone)
        groups = [
            RefusedGroup(reason, len(phones), phones[:shown])
            for reason, phones in by_reason.items()
        ]
        return sorted(groups, key=lambda group: -group.count)


def preview(
    *, body: str, phones: list[str], sender: str = "", message_type: str = MessageType.TEXT
) -> Preview:
    """How many recipients go through which account, from which sender ID (mapped onto each
    account), at what cost (each at its destination's price), and who is refused and why: the
    Compose preview's and the API preview's answer for "Automatic". Set-based (`plan`)."""
    split, router = plan(body=body, phones=phones, sender=sender, message_type=message_type)
    accounts = ProviderAccount.objects.in_bulk(list(split.by_account))
    shares = []
    for account_id, members in split.by_account.items():
        account = accounts[account_id]
        candidate = router.candidates[account_id]
        parts = analyse_for(account, body).segments
        shares.append(
            Share(
                account=account,
                phones=members,
                parts=parts,
                sender=candidate.sender,
                cost=candidate.prices.cost(members, parts),
                routes=sorted(split.rule_of.get(account_id, ())),
            )
        )
    shares.sort(key=lambda share: (-share.recipients, share.account.name))
    return Preview(shares, split.refused)


def prepare_routed(
    *,
    body: str,
    recipients: ResolvedRecipients,
    sender: str = "",
    message_type: MessageType = MessageType.TEXT,
    idempotency_key: str | None = None,
    **options: Any,
) -> RoutedDraft:
    """`sending.prepare` for each account routing chooses, with that account's sender ID (the
    same name where registered, else its default for routed messages). Raises SendRefused when
    no recipient has a route, or when any part fails a check (nothing is sent then).

    A form's `idempotency_key` already used for any part (a second submit, a second tab) is
    answered with the messages it made, each part's Draft carrying its message, and nothing is
    routed again: routing may choose other accounts since (a breaker took one out of the
    routes), and their keys would be new ones."""
    if idempotency_key and (made := sent_with_parts(idempotency_key, **options)):
        return made
    if not recipients.phones:
        raise SendRefused(_("There is no recipient to send to."), code="no_recipients")
    split, router = plan(
        body=body, phones=recipients.phones, sender=sender, message_type=message_type
    )
    if not split.by_account:
        reason = split.refused[0][1] if split.refused else ""
        raise SendRefused(
            _("No recipient has a route that can send this message. %(reason)s")
            % {"reason": reason},
            code="no_route",
        )
    accounts = ProviderAccount.objects.in_bulk(list(split.by_account))
    drafts = []
    parts = sorted(split.by_route.items(), key=lambda item: (item[0][0], item[0][1] or 0))
    for n, ((account_id, route_id), phones) in enumerate(parts):
        chosen = set(phones)
        part = ResolvedRecipients(
            phones=[p for p in recipients.phones if p in chosen],
            contact_ids={p: c for p, c in recipients.contact_ids.items() if p in chosen},
            # The recipients left out are recorded once, on the first message.
            skipped=(
                [*recipients.skipped, *((p, f"{NO_ROUTE}: {why}") for p, why in split.refused)]
                if n == 0
                else []
            ),
            references={p: r for p, r in recipients.references.items() if p in chosen},
        )
        drafts.append(
            prepare(
                account=accounts[account_id],
                body=body,
                recipients=part,
                sender=router.candidates[account_id].sender,
                message_type=message_type,
                idempotency_key=(
                    part_key(idempotency_key, account_id, route_id) if idempotency_key else None
                ),
                **options,
            )
        )
    routes = tuple(route_id for (_account, route_id), _phones in parts)
    return RoutedDraft(tuple(drafts), tuple(split.refused), routes, sender)


def part_key(idempotency_key: str, account_id: int, route_id: int | None) -> str:
    """The key of one account's and route's part of a routed send (`idempotency.py`)."""
    return f"{idempotency_key}:{account_id}:{route_id}"[:64]


def sent_with_parts(idempotency_key: str, *, user=None, department=None, **_options):
    """The routed send already made with `idempotency_key`, as a RoutedDraft whose parts
    carry their messages (`sending.sent_with` checks each is this sender's), or None.

    The parts' keys begin with the form's key and a colon, which no other key does (a token
    has no colon). PostgreSQL finds them through the column's pattern index."""
    keys = (
        Message.objects.filter(idempotency_key__startswith=f"{idempotency_key}:")
        .order_by("idempotency_key")
        .values_list("idempotency_key", flat=True)
    )
    drafts = []
    for key in keys:
        message = sent_with(key, user=user, department=department)
        drafts.append(
            Draft(
                account=message.account,
                body=message.body,
                segments=message.segments,
                cost=message.estimated_cost,
                scheduled_for=message.scheduled_for,
                idempotency_key=key,
                existing=message,
            )
        )
    if not drafts:
        return None
    return RoutedDraft(
        tuple(drafts),
        routes=tuple(d.existing.route_id for d in drafts),
        sender=drafts[0].existing.routed_sender,
    )


def send_routed(routed: RoutedDraft) -> list[Message]:
    """Send every part in one transaction: all the messages are created, or none."""
    with transaction.atomic():
        messages = [send(draft) for draft in routed.drafts]
        if all(draft.existing for draft in routed.drafts):
            return messages  # sent before (`sent_with_parts`): nothing to record
        for message, route_id in zip(messages, routed.routes, strict=True):
            # Before commit, so before dispatch starts: failover reads them.
            Message.objects.filter(pk=message.pk).update(
                route_id=route_id, routed_sender=routed.sender
            )
            message.route_id, message.routed_sender = route_id, routed.sender
        return messages
