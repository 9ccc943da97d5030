"""Route resolution: which account each recipient of a message goes through, and why.

Pure and set-based. `Rule`s are tried in order and the first that matches a recipient wins (its
destinations, and the message's type, alphabet and sender ID); the rule then names its accounts
in order, or asks for the cheapest. Only accounts that can carry this message are chosen
(`Candidate.refusal` says why one cannot); a recipient whose first matching rule has none, or who
matches no rule, is refused with the reason - never sent by a route no one meant.

Recipients are grouped by the part of their number that can decide anything (the longest prefix
of any rule or price table), so each group is resolved once: a million numbers cost a pass of
dictionary reads, and never a query.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import chain, compress
from operator import call, itemgetter

from django.utils.translation import gettext as _

from .destinations import PrefixMap, digits_of
from .prices import PriceTable


@dataclass(frozen=True)
class Rule:
    name: str
    prefixes: tuple[str, ...] = ()  # empty: every destination
    message_type: str = ""  # empty: any
    alphabet: str = ""  # "gsm" or "unicode"; empty: any
    sender: str = ""  # empty: any
    cheapest: bool = False
    accounts: tuple[int, ...] = ()
    id: int | None = None

    def matches_message(self, message_type: str, alphabet: str, sender: str) -> bool:
        return (
            (not self.message_type or self.message_type == message_type)
            and (not self.alphabet or self.alphabet == alphabet)
            and (not self.sender or self.sender.casefold() == sender.casefold())
        )


@dataclass(frozen=True)
class Candidate:
    """An account as routing sees it for one message."""

    id: int
    name: str
    prices: PriceTable
    refusal: str = ""  # why it cannot carry this message; empty: it can
    sender: str = ""  # the sender ID it would send from


@dataclass(frozen=True)
class Choice:
    """Where one recipient goes: `account` (None: refused), then `fallbacks` in order (for
    failover), and `reason` in words."""

    account: int | None
    reason: str
    rule: str = ""
    fallbacks: tuple[int, ...] = ()
    rule_id: int | None = None


@dataclass
class Split:
    """A message's recipients by account, and those refused with the reason."""

    by_account: dict[int, list[str]] = field(default_factory=dict)
    refused: list[tuple[str, str]] = field(default_factory=list)
    rule_of: dict[int, set[str]] = field(default_factory=dict)  # account -> rules that chose it
    # (account, rule id) -> phones: a routed send makes one message per account and route, so
    # failover and the route reports know each delivery's route.
    by_route: dict[tuple[int, int | None], list[str]] = field(default_factory=dict)


class Router:
    def __init__(
        self,
        rules: Sequence[Rule],
        candidates: dict[int, Candidate],
        *,
        message_type: str = "text",
        alphabet: str = "gsm",
        sender: str = "",
    ) -> None:
        self.rules = [r for r in rules if r.matches_message(message_type, alphabet, sender)]
        self.candidates = candidates
        first: dict[str, int] = {}
        self.any_destination: int | None = None
        for index, rule in enumerate(self.rules):
            if not rule.prefixes and self.any_destination is None:
                self.any_destination = index
            for prefix in rule.prefixes:
                first.setdefault(prefix, index)
        self.prefixes = PrefixMap(first)
        self.key_length = max(
            [self.prefixes.longest, *(c.prices.prices.longest for c in candidates.values())]
        )
        self._known: dict[str, Choice] = {}

    def rule_for(self, digits: str) -> int | None:
        """The index of the first rule matching `digits` (all prefixes are looked at, not just
        the longest: an earlier rule with a shorter prefix still comes first)."""
        best = self.any_destination
        entries = self.prefixes.entries
        for length in self.prefixes.lengths:
            index = entries.get(digits[:length])
            if index is not None and (best is None or index < best):
                best = index
        return best

    def choose(self, phone: str) -> Choice:
        digits = digits_of(phone)
        key = digits[: self.key_length]
        known = self._known.get(key)
        if known is None:
            known = self._known[key] = self._choose(digits)
        return known

    def _choose(self, digits: str) -> Choice:
        index = self.rule_for(digits)
        if index is None:
            return Choice(None, _("No route matches this number and message."))
        rule = self.rules[index]
        able = [self.candidates[a] for a in rule.accounts if a in self.candidates]
        capable = [c for c in able if not c.refusal]
        if not capable:
            why = "; ".join(f"{c.name}: {c.refusal}" for c in able) or _("it names no account")
            return Choice(
                None,
                _("Route “%(rule)s” matches, but none of its accounts can send it (%(why)s).")
                % {"rule": rule.name, "why": why},
                rule.name,
                rule_id=rule.id,
            )
        phone = "+" + digits
        if rule.cheapest:
            # Stable: among equal prices the rule's own order decides.
            capable = sorted(capable, key=lambda c: c.prices.price_of(phone))
            chosen = capable[0]
            reason = _(
                "Route “%(rule)s”: %(account)s is the cheapest that can send it "
                "(%(price)s per part)."
            ) % {"rule": rule.name, "account": chosen.name, "price": chosen.prices.price_of(phone)}
        else:
            chosen = capable[0]
            skipped = [c for c in able[: able.index(chosen)]]
            reason = _(
                "Route “%(rule)s”: %(account)s, the first of its accounts that can send it."
            ) % {
                "rule": rule.name,
                "account": chosen.name,
            }
            if skipped:
                reason += " " + " ".join(
                    _("%(account)s was passed over: %(why)s.")
                    % {"account": c.name, "why": c.refusal}
                    for c in skipped
                )
        return Choice(chosen.id, reason, rule.name, tuple(c.id for c in capable[1:]), rule.id)

    def split(self, phones: Iterable[str]) -> Split:
        """Every phone's account and rule, resolved once per group of numbers that share the
        part that can decide anything (`key_length` digits; the "+" is kept, which only makes
        the groups finer, never wrong). Set-based: the passes over the numbers run in C (`map`,
        and `operator.call` on each group's `list.append`), so a million numbers cost a few
        passes and Python code runs once per group. Each (account, rule) list keeps the input
        order; an account's list is its rules' lists one after the other."""
        phones = phones if isinstance(phones, list) else list(phones)
        keys = list(map(itemgetter(slice(0, self.key_length + 1)), phones))
        choices = {key: self.choose(key) for key in set(keys)}
        result = Split()
        refused: list[str] = []
        for choice in choices.values():
            if choice.account is not None:
                result.by_route.setdefault((choice.account, choice.rule_id), [])
                result.rule_of.setdefault(choice.account, set()).add(choice.rule)
        to_list = {
            key: refused.append
            if choice.account is None
            else result.by_route[(choice.account, choice.rule_id)].append
            for key, choice in choices.items()
        }
        deque(map(call, map(to_list.__getitem__, keys), phones), maxlen=0)
        lists: dict[int, list[list[str]]] = {}
        for (account, _rule), members in sorted(
            result.by_route.items(), key=lambda item: (item[0][0], item[0][1] or 0)
        ):
            lists.setdefault(account, []).append(members)
        result.by_account = {
            account: parts[0] if len(parts) == 1 else list(chain.from_iterable(parts))
            for account, parts in lists.items()
        }
        if refused:
            reason_of = {key: c.reason for key, c in choices.items() if c.account is None}
            reasons = map(reason_of.__getitem__, compress(keys, map(reason_of.__contains__, keys)))
            result.refused = list(zip(refused, reasons, strict=True))
        return result
