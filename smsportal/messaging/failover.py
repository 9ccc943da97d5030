"""Failover: a delivery of a routed message ("Automatic") whose attempt certainly left nothing at
the provider moves to the next account of its route and is sent there, as a new attempt in its
history. Kept apart from dispatch.py, which calls it at two points:

- `move_not_sent` after a request's outcomes are recorded: only outcomes the circuit breaker's
  classification calls "not taken" (`routing.breaker.not_taken`: refused before the request
  left, or refused whole by the account — login, credit, disabled) are moved. An attempt that
  may have left (a timeout after sending, a garbled answer) is `unknown` and never moves: a
  second account could deliver what the first one also did. The move is a conditional UPDATE of
  rows still `failed` at the account that failed, so it happens once; the next account must be
  able to carry the message (routing's capabilities and circuit breaker, and for a personalised
  message each delivery's own text: its alphabet, its parts), must not have been tried for this
  delivery already, its balance must cover what moves to it (the rule of the send path,
  `sending.prepare`), and the department's quota on it must have room (reserved here, as the
  send path does), else the delivery stays `failed` with the reason.
- `rounds` in `send_batch`: the batch's queued deliveries grouped by account, each group sent
  through its own account (a message of one account, as the rest of dispatch expects it). A
  batch run again (the stalled-batch sweep, a deduplicating provider's repeat) sends moved rows
  through their new account too, never through the one that failed.
  The next account is asked again at the send (`through`): one that can no longer carry the
  message since the move (its sender ID retired, the account stopped) fails its rows unsent,
  and they move on; a sender ID is never left empty for the provider's default to go out.

Opted-out numbers are never sent: a moved delivery is claimed like any other (the claim leaves
out the opt-out list) and then skipped.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator, Sequence
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.utils import translation

from smsportal.credits.affordability import Unaffordable, check_affordable
from smsportal.providers.models import ProviderAccount
from smsportal.quotas import services as quotas
from smsportal.routing.models import Route
from smsportal.routing.service import candidates_for, rule_of, text_refusal
from smsportal.sms.status import DeliveryStatus

from .daily_stats import Transitions, day_of
from .models import Delivery, DeliveryEvent, Message

# The history event of a move names both accounts in `raw`; the accounts a delivery has failed
# at are read back from it, so a delivery never goes twice through the same account.
FAILED_AT = "failed_account"


def rounds(
    message: Message, first_id: int, last_id: int
) -> Iterator[tuple[Message, list[int], str]]:
    """(the message as sent through one account, ids, why that account cannot send them now)
    for the batch's queued deliveries: the message's own account first. The reason is empty
    but for deliveries moved to an account that can no longer carry the message since the
    move (its sender ID retired, the account stopped): dispatch fails them there, unsent, and
    they move on (`move_failed`). For a routed message, asks again after each round, since
    deliveries that failed may have moved to another account meanwhile; each (delivery,
    account) pair is offered once, so a delivery the claim leaves out (opted out) ends it."""
    offered: set[tuple[int, int]] = set()
    while True:
        rows = (
            Delivery.objects.filter(
                message_id=message.pk,
                id__gte=first_id,
                id__lte=last_id,
                status=DeliveryStatus.QUEUED,
            )
            .order_by("id")
            .values_list("id", "account_id")
        )
        groups: dict[int, list[int]] = {}
        for delivery_id, account_id in rows:
            if (delivery_id, account_id) not in offered:
                groups.setdefault(account_id, []).append(delivery_id)
        if not groups:
            return
        for account_id in sorted(groups, key=lambda a: a != message.account_id):
            ids = groups[account_id]
            offered.update((i, account_id) for i in ids)
            moved, refusal = through(message, account_id)
            yield moved, ids, refusal
        if message.route_id is None:
            return


def through(message: Message, account_id: int) -> tuple[Message, str]:
    """The message as dispatch sends it through `account_id`: that account, and the sender ID
    routing maps the one asked for to there (not saved: the message keeps its own account);
    and why that account cannot carry it now, as routing says it (empty when it can). The
    move checked it, but a sender ID retired or an account stopped since must stop the send as
    it stops any other: a sender left empty would go out as the provider's default."""
    if account_id == message.account_id:
        return message, ""  # dispatch.start checked its sender
    account = ProviderAccount.objects.get(pk=account_id)
    # In the portal's language of record, as dispatch keeps every reason a delivery failed.
    with translation.override(settings.LANGUAGE_CODE):
        candidate = candidates_for(
            [account],
            body=None if message.personal else message.body,  # each text checked at the move
            message_type=message.message_type,
            sender=message.routed_sender,
        )[account_id]
    moved = copy.copy(message)  # Model.__getstate__ copies the field cache: `message` keeps A
    moved.account = account
    moved.sender = candidate.sender
    return moved, candidate.refusal


def move_not_sent(message: Message, results: Sequence[Sequence]) -> int:
    """Move the deliveries whose attempt through `message.account` certainly left nothing at the
    provider (`outcome.not_taken`; `results` holds each request's outcomes) to the next account
    of the message's route. Returns how many moved (they are `queued` at their new account;
    `rounds` sends them). A message not sent by a route costs nothing here."""
    if message.route_id is None:
        return 0
    ids = [
        o.delivery_id
        for chunk in results
        for o in chunk
        if o.not_taken and o.status == DeliveryStatus.FAILED
    ]
    return move_failed(message, ids)


def move_failed(message: Message, ids: Sequence[int]) -> int:
    """Move the deliveries `ids`, `failed` through `message.account` with nothing left at the
    provider, to the next account of the message's route that can carry each one's own text
    and whose balance and the department's quota cover it. Returns how many moved."""
    if message.route_id is None or not ids:
        return 0
    route = Route.objects.filter(pk=message.route_id).prefetch_related("steps").first()
    if route is None or not route.is_active:
        return 0
    rows = list(
        Delivery.objects.filter(
            id__in=ids,
            message_id=message.pk,
            account_id=message.account_id,
            status=DeliveryStatus.FAILED,
        ).values_list("id", "phone", "segments", "queued_at", "error_code", "error_text", "text")
    )
    if not rows:
        return 0
    failed_at = _failed_accounts([row[0] for row in rows])
    rule = rule_of(route)
    accounts = ProviderAccount.objects.in_bulk(list(rule.accounts))
    candidates = candidates_for(
        [accounts[a] for a in rule.accounts if a in accounts],
        # A personalised message has no one text: each recipient's is checked below.
        body=None if message.personal else message.body,
        message_type=message.message_type,
        sender=message.routed_sender,
    )
    able = [candidates[a] for a in rule.accounts if a in candidates and not candidates[a].refusal]
    carries = _carries(message, accounts)
    # Each delivery's accounts to try, in the route's order (or cheapest first for it).
    plans: dict[tuple[int, ...], list[tuple]] = {}
    for row in rows:
        tried = failed_at.get(row[0], set()) | {message.account_id}
        order = [c for c in able if c.id not in tried and carries(c.id, row[6])]
        if rule.cheapest:
            order.sort(key=lambda c: c.prices.price_of(row[1]))
        plans.setdefault(tuple(c.id for c in order), []).append(row)
    moved = 0
    for order, group in plans.items():
        moved += _move_group(message, route, order, group, candidates, accounts)
    return moved


def _carries(message: Message, accounts: dict[int, ProviderAccount]):
    """(account id, a delivery's own text) -> whether that account can carry the text (its
    alphabet, its parts): a personalised text is as long as its recipient's values make it,
    and an account allowing fewer parts than it takes must not be moved to. A message of one
    text was checked whole by `candidates_for`. Each text is counted once per account."""
    if not message.personal:
        return lambda _account_id, _text: True
    counted: dict[tuple[int, str], bool] = {}

    def carries(account_id: int, text: str) -> bool:
        key = (account_id, text)
        if key not in counted:
            refusal = text_refusal(accounts[account_id], text, message.message_type)
            counted[key] = not refusal
        return counted[key]

    return carries


def _failed_accounts(ids: list[int]) -> dict[int, set[int]]:
    """The accounts each delivery already failed at (from its earlier moves' events)."""
    found: dict[int, set[int]] = {}
    events = DeliveryEvent.objects.filter(delivery_id__in=ids, raw__has_key=FAILED_AT)
    for delivery_id, raw in events.values_list("delivery_id", "raw"):
        found.setdefault(delivery_id, set()).add(raw[FAILED_AT])
    return found


def _move_group(message, route, order, group, candidates, accounts) -> int:
    refusals = []
    sender = message.created_by if message.created_by_id else AnonymousUser()
    for account_id in order:
        prices = candidates[account_id].prices
        cost = sum((prices.price_of(row[1]) * row[2] for row in group), Decimal("0"))
        try:
            # The rule every send meets (`sending.prepare`): the next account's balance must
            # cover what it is asked to send, else it is passed over as a full quota is.
            check_affordable(accounts[account_id], cost, sender)
        except Unaffordable as exc:
            refusals.append(f"{accounts[account_id].name}: {exc.message}")
            continue
        try:
            with transaction.atomic():  # the move and its quota, or neither
                moved = _move(message, route, account_id, accounts[account_id].name, group)
                quotas.reserve(
                    message.department,
                    accounts[account_id],
                    parts=sum(row[2] for row in moved),
                    credit=sum((prices.price_of(r[1]) * r[2] for r in moved), Decimal("0")),
                    message_id=message.pk,
                )
                return len(moved)
        except quotas.QuotaExceeded as exc:
            refusals.append(f"{accounts[account_id].name}: {exc}")
    if refusals:
        _note_not_moved(group, message.account.name, route, "; ".join(refusals))
    elif not order and len(route.steps.all()) > 1:
        _note_not_moved(
            group, message.account.name, route, "no other account of the route can send it"
        )
    return 0


def _move(message, route, account_id: int, account_name: str, group) -> list[tuple]:
    """Conditional: only rows still `failed` at the account that failed move, once. Returns
    the rows it moved."""
    token = uuid.uuid4().hex
    ids = [row[0] for row in group]
    moved = Delivery.objects.filter(
        id__in=ids,
        message_id=message.pk,
        account_id=message.account_id,
        status=DeliveryStatus.FAILED,
    ).update(
        status=DeliveryStatus.QUEUED,
        account_id=account_id,
        claim=token,
        error_code="",
        error_text="",
        final_at=None,
        cost=None,
    )
    if not moved:
        return []
    held = set(Delivery.objects.filter(claim=token).values_list("id", flat=True))
    moves = Transitions()
    events = []
    done = [row for row in group if row[0] in held]
    for delivery_id, _phone, _segments, queued_at, code, text, _own_text in done:
        day = day_of(queued_at)
        moves.add(
            day, message.account_id, message.department_id, DeliveryStatus.FAILED, code[:40], -1
        )
        moves.add(day, account_id, message.department_id, DeliveryStatus.QUEUED, "", 1)
        events.append(
            DeliveryEvent(
                delivery_id=delivery_id,
                source=DeliveryEvent.Source.SUBMIT,
                from_status=DeliveryStatus.FAILED,
                to_status=DeliveryStatus.QUEUED,
                provider_status=code[:40],
                description=(
                    f"Not sent through {message.account.name} "
                    f"({text.removeprefix('Not sent: ').rstrip('.')}); moved to "
                    f"{account_name}, the next account of route “{route.name}”."
                ),
                raw={FAILED_AT: message.account_id, "next_account": account_id},
            )
        )
    moves.apply()
    DeliveryEvent.objects.bulk_create(events, batch_size=1000)
    return done


def _note_not_moved(group, from_name: str, route, why: str) -> None:
    DeliveryEvent.objects.bulk_create(
        (
            DeliveryEvent(
                delivery_id=row[0],
                source=DeliveryEvent.Source.SUBMIT,
                from_status=DeliveryStatus.FAILED,
                to_status=DeliveryStatus.FAILED,
                description=(
                    f"Not sent through {from_name}, and not moved to another account of "
                    f"route “{route.name}”: {why}."
                ),
            )
            for row in group
        ),
        batch_size=1000,
    )
