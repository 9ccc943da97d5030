"""Prices per destination: each account's table of prefix -> price per part, with its own
`price_per_segment` as the default. Costs are computed set-based: one query for the table, then
dictionary look-ups, grouped by the part of the number that decides the price."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from smsportal.core.prepared import Prepared
from smsportal.providers.models import ProviderAccount

from .destinations import PrefixMap, digits_of
from .models import DestinationPrice


def prices_of(account_id: int):
    return DestinationPrice.objects.filter(account=account_id).values_list(
        "prefix", "price_per_part"
    )


# Asked by every compose preview: its SQL compiled once (core/prepared.py), the rows read afresh.
_prices_of = Prepared(prices_of, int)


@dataclass
class PriceTable:
    default: Decimal
    prices: PrefixMap[Decimal]

    @classmethod
    def of(cls, account: ProviderAccount) -> PriceTable:
        return cls(account.price_per_segment, PrefixMap(_prices_of(account.pk)))

    @classmethod
    def for_accounts(cls, accounts: Iterable[ProviderAccount]) -> dict[int, PriceTable]:
        """Every account's table in one query."""
        accounts = list(accounts)
        entries: dict[int, list] = {a.pk: [] for a in accounts}
        rows = DestinationPrice.objects.filter(account__in=accounts).values_list(
            "account_id", "prefix", "price_per_part"
        )
        for account_id, prefix, price in rows:
            entries[account_id].append((prefix, price))
        return {a.pk: cls(a.price_per_segment, PrefixMap(entries[a.pk])) for a in accounts}

    def price_of(self, phone: str) -> Decimal:
        """Price per part to `phone` (E.164): the longest matching prefix's, else the default."""
        if not self.prices:
            return self.default
        prefix = self.prices.match(digits_of(phone))
        return self.default if prefix is None else self.prices.entries[prefix]

    def key_of(self, phone: str) -> str:
        """The part of the number that decides its price: numbers sharing it cost the same."""
        return digits_of(phone)[: self.prices.longest]

    def parts_by_price(
        self, phones: Iterable[str], parts: int | Mapping[str, int]
    ) -> Counter[Decimal]:
        """price -> parts sent at that price. `parts` is one count for every phone, or each
        phone's own (a personalised message)."""
        by_price: Counter[Decimal] = Counter()
        if not self.prices:
            if isinstance(parts, int):
                by_price[self.default] = parts * sum(1 for _ in phones)
            else:
                by_price[self.default] = sum(parts[p] for p in phones)
            return by_price
        known: dict[str, Decimal] = {}
        for phone in phones:
            key = self.key_of(phone)
            price = known.get(key)
            if price is None:
                price = known[key] = self.price_of(phone)
            by_price[price] += parts if isinstance(parts, int) else parts[phone]
        return by_price

    def cost(self, phones: Iterable[str], parts: int | Mapping[str, int]) -> Decimal:
        return sum(
            (price * count for price, count in self.parts_by_price(phones, parts).items()),
            Decimal("0"),
        )


def destination_cost(
    account: ProviderAccount, phones: Iterable[str], parts: int | Mapping[str, int]
) -> Decimal:
    """What sending `parts` (per phone, or each phone's own) to `phones` through `account`
    costs, each at its destination's price."""
    return PriceTable.of(account).cost(phones, parts)
