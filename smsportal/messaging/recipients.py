"""Who a message goes to: pasted numbers (and, through `sources`, lists and contacts), parsed,
de-duplicated and checked against the opt-out list, with every number left out and why."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from smsportal.sms.phones import parse_phone, split_pasted

from .sending import ResolvedRecipients

MAX_LISTED = 50  # invalid or opted-out numbers shown one by one in the preview


@dataclass
class Summary:
    """What the preview shows of the recipients; `RecipientSummary` (exact, can be sent) and
    `CountedSummary` (the live preview's counts) are the two kinds."""

    phones: list[str] = field(default_factory=list)  # valid, unique, not opted out, in order
    duplicates: int = 0
    invalid: list[tuple[str, str]] = field(default_factory=list)  # (as typed, reason)
    opted_out: list[str] = field(default_factory=list)
    contact_ids: dict[str, int] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.phones)

    @property
    def opted_out_count(self) -> int:
        return len(self.opted_out)

    @property
    def shown_invalid(self) -> list[tuple[str, str]]:
        return self.invalid[:MAX_LISTED]


@dataclass
class RecipientSummary(Summary):
    """Every recipient resolved: what the send service is given."""

    def resolved(self) -> ResolvedRecipients:
        skipped = [(raw, f"invalid number: {reason}") for raw, reason in self.invalid]
        skipped += [(phone, "opted out") for phone in self.opted_out]
        return ResolvedRecipients(phones=self.phones, contact_ids=self.contact_ids, skipped=skipped)


def resolve(
    pasted: str,
    region: str,
    listed: Iterable[tuple[str, int | None]] = (),
    opted_out: callable | None = None,
) -> RecipientSummary:
    """Build the summary. `listed` yields (E.164 phone, contact id) from lists and contacts;
    `opted_out(phones) -> set` says which phones must not be messaged."""
    summary = RecipientSummary()
    seen: dict[str, None] = {}
    for phone, contact_id in listed:
        if phone in seen:
            summary.duplicates += 1
            continue
        seen[phone] = None
        if contact_id is not None:
            summary.contact_ids[phone] = contact_id
    for raw in split_pasted(pasted):
        parsed = parse_phone(raw, region)
        if not parsed.valid:
            summary.invalid.append((raw, parsed.error))
        elif parsed.e164 in seen:
            summary.duplicates += 1
        else:
            seen[parsed.e164] = None
    blocked = opted_out(list(seen)) if opted_out else set()
    summary.opted_out = [phone for phone in seen if phone in blocked]
    summary.phones = [phone for phone in seen if phone not in blocked]
    return summary


@dataclass
class CountedSummary(Summary):
    """The live preview's summary when lists are chosen: the pasted numbers resolved one by one,
    the lists' members only counted (a list of a million is not read on every keystroke). It
    cannot be sent: the send resolves everything exactly (a RecipientSummary)."""

    listed_to_send: int = 0
    listed_opted_out: int = 0

    @property
    def count(self) -> int:
        return len(self.phones) + self.listed_to_send

    @property
    def opted_out_count(self) -> int:
        return len(self.opted_out) + self.listed_opted_out


def count_with_lists(
    pasted: str,
    region: str,
    members: int,
    members_opted_out: int,
    overlap: Iterable[str],
    opted_out: callable,
) -> CountedSummary:
    """Combine the pasted numbers with lists known only by their counts. `overlap` are the pasted
    numbers that are also members (they count once, with the list)."""
    exact = resolve(
        pasted, region, listed=((phone, None) for phone in overlap), opted_out=opted_out
    )
    overlap = set(overlap)
    summary = CountedSummary(
        phones=[p for p in exact.phones if p not in overlap],
        duplicates=exact.duplicates,
        invalid=exact.invalid,
        opted_out=[p for p in exact.opted_out if p not in overlap],
    )
    summary.listed_to_send = members - members_opted_out
    summary.listed_opted_out = members_opted_out
    return summary
