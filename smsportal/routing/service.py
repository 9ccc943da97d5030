"""Routing as the rest of the portal asks for it: the saved rules and the accounts able to carry
a given message, loaded in a few queries, and a Router over them."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from smsportal.providers.backends.base import MessageType
from smsportal.providers.models import ProviderAccount
from smsportal.senders.models import SenderID
from smsportal.sms.encoding import GSM7, STANDARD, analyse

from .models import AccountRouting, Route
from .prices import PriceTable
from .routes import Candidate, Router, Rule

# What a type of message needs from the provider (Capabilities' flags).
TYPE_NEEDS = {
    MessageType.FLASH: ("flash", gettext_lazy("it cannot send flash messages")),
    MessageType.VOICE: ("voice", gettext_lazy("it cannot send voice messages")),
    MessageType.BINARY: ("binary", gettext_lazy("it cannot send binary messages")),
    MessageType.BARCODE: ("barcode", gettext_lazy("it cannot send barcodes")),
}


def alphabet_of(body: str) -> str:
    return "gsm" if analyse(body, STANDARD).encoding == GSM7 else "unicode"


def saved_rules() -> list[Rule]:
    """The active routes in order, each with its accounts in order (two queries)."""
    routes = Route.objects.filter(is_active=True).prefetch_related("steps")
    return [rule_of(route) for route in routes]


def rule_of(route: Route) -> Rule:
    from .destinations import parse_destinations

    return Rule(
        id=route.pk,
        name=route.name,
        prefixes=tuple(d.prefix for d in parse_destinations(route.destinations)),
        message_type=route.message_type,
        alphabet=route.alphabet,
        sender=route.sender,
        cheapest=route.strategy == "cheapest",
        accounts=tuple(step.account_id for step in route.steps.all()),
    )


def out_of_routes(account: ProviderAccount, now=None) -> str:
    """Why the circuit breaker keeps `account` out of routes now; empty when it does not."""
    state = getattr(account, "routing", None) if hasattr(account, "routing") else None
    return breaker_refusal(state, now or timezone.now())


def breaker_refusal(state: AccountRouting | None, now) -> str:
    if state and state.out_until and state.out_until > now:
        return _("taken out of routes after %(n)s failed attempts, until %(when)s") % {
            "n": state.not_sent_failures,
            "when": date_format(timezone.localtime(state.out_until), "H:i"),
        }
    return ""


def candidates_for(
    accounts: Iterable[ProviderAccount],
    *,
    body: str | None,
    message_type: str,
    sender: str = "",
) -> dict[int, Candidate]:
    """Each account as routing sees it for this message: whether it can carry it (active, not
    taken out by its circuit breaker, the type, the alphabet, the length) and the sender ID it
    would use (the same one if registered there, else its default for routed messages).

    `body` None: the message has no one text (a personalised one: each recipient's own), so
    the caller asks `text_refusal` of each text instead, and only the rest is checked here."""
    accounts = list(accounts)
    tables = PriceTable.for_accounts(accounts)
    states = {s.account_id: s for s in AccountRouting.objects.filter(account__in=accounts)}
    # account -> its usable sender IDs, by their folded case -> as registered (sent as such)
    registered: dict[int, dict[str, str]] = {}
    if sender:
        rows = (
            SenderID.objects.filter(account__in=accounts)
            .usable()
            .values_list("account_id", "value")
        )
        for account_id, value in rows:
            registered.setdefault(account_id, {})[value.casefold()] = value
    now = timezone.now()
    found = {}
    for account in accounts:
        state = states.get(account.pk)
        refusal, mapped = _refusal(account, state, body, message_type, sender, registered, now)
        found[account.pk] = Candidate(account.pk, account.name, tables[account.pk], refusal, mapped)
    return found


def _refusal(account, state, body, message_type, sender, registered, now) -> tuple[str, str]:
    capabilities = account.backend_class.capabilities
    if not account.is_active:
        return _("the account is not active"), ""
    if breaker_refusal(state, now):
        return breaker_refusal(state, now), ""
    if not capabilities.send:
        return _("it cannot send messages"), ""
    need = TYPE_NEEDS.get(message_type)
    if need and not getattr(capabilities, need[0]):
        return str(need[1]), ""
    if body is not None and (refusal := text_refusal(account, body, message_type)):
        return refusal, ""
    if not sender or not capabilities.sender_per_message:
        return "", ""
    usable = registered.get(account.pk, {})
    if sender.casefold() in usable:
        return "", usable[sender.casefold()]
    default = state.default_sender if state else ""
    if default and default.casefold() in usable:
        return "", usable[default.casefold()]
    if default.casefold() == sender.casefold():
        # The sender asked is this account's default too, and can no longer be sent from.
        return _("its sender ID “%(sender)s” can no longer be sent from") % {"sender": sender}, ""
    if default:
        # Retired (or otherwise unusable) since it was chosen: the send path would refuse it.
        return _(
            "it has no sender ID “%(sender)s”, and its default sender for routed messages, "
            "“%(default)s”, can no longer be sent from"
        ) % {"sender": sender, "default": default}, ""
    return _("it has no sender ID “%(sender)s” and no default sender for routed messages") % {
        "sender": sender
    }, ""


def text_refusal(account: ProviderAccount, body: str, message_type: str) -> str:
    """Why `account` cannot carry the text `body` (its alphabet, its parts); empty when it can.
    Counted with no query: failover asks it of each recipient's own text."""
    if message_type == MessageType.BINARY:
        return ""
    analysis = analyse(body, account.backend.encoding_profile)
    if not analysis.sendable:
        return analysis.problem
    if analysis.encoding != GSM7 and not account.backend_class.capabilities.unicode:
        return _("it cannot send Arabic or other non-standard characters")
    if analysis.segments > account.max_parts:
        return _("the text needs %(parts)s parts; it allows at most %(max)s") % {
            "parts": analysis.segments,
            "max": account.max_parts,
        }
    return ""


def router_for(
    *, body: str, message_type: str = MessageType.TEXT, sender: str = "", rules=None
) -> Router:
    rules = saved_rules() if rules is None else rules
    ids = {a for rule in rules for a in rule.accounts}
    accounts = ProviderAccount.objects.filter(pk__in=ids)
    return Router(
        rules,
        candidates_for(accounts, body=body, message_type=message_type, sender=sender),
        message_type=message_type,
        alphabet=alphabet_of(body),
        sender=sender,
    )


def accounts_out_of_routes() -> list[tuple[ProviderAccount, str]]:
    """Accounts the circuit breaker keeps out of routes now, with why (for the dashboard)."""
    now = timezone.now()
    states = AccountRouting.objects.filter(out_until__gt=now).select_related("account")
    return [(state.account, breaker_refusal(state, now)) for state in states]
