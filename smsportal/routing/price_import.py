"""A price file: CSV with a destination and a price per part on each line. The whole file is
checked first; one bad line refuses it all (line and reason for each), so a table is never
half replaced. A good file replaces the account's table in one transaction."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from smsportal.core import audit
from smsportal.providers.models import ProviderAccount

from .destinations import BadDestination, Destination, parse_destination
from .models import DestinationPrice

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 20_000
MAX_ERRORS_SHOWN = 50


@dataclass
class PriceFile:
    rows: list[tuple[Destination, Decimal]] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)


def parse_price(text: str) -> Decimal:
    try:
        price = Decimal(text.strip())
    except (InvalidOperation, ValueError):
        raise ValueError(_("“%(text)s” is not a price.") % {"text": text.strip()}) from None
    if not price.is_finite():
        raise ValueError(_("“%(text)s” is not a price.") % {"text": text.strip()})
    if price < 0:
        raise ValueError(_("A price cannot be negative."))
    if price != price.quantize(Decimal("0.0001")):
        raise ValueError(_("A price has at most 4 decimal places."))
    if price >= Decimal("1000000"):
        raise ValueError(_("The price is too large."))
    return price


def read_price_file(data: bytes) -> PriceFile:
    """Check every line of `data`. A first line naming the columns (destination,price) is
    skipped; empty lines are ignored."""
    result = PriceFile()
    if len(data) > MAX_BYTES:
        result.errors.append((0, _("The file is larger than 2 MB.")))
        return result
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        result.errors.append((0, _("The file is not UTF-8 text (save it as CSV UTF-8).")))
        return result
    seen: dict[str, int] = {}
    for line, cells in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [c.strip() for c in cells]
        if not any(cells):
            continue
        if line == 1 and cells[0].lower() in ("destination", "prefix", "country"):
            continue
        if len(cells) != 2:
            found = _("Expected 2 columns (destination, price), found %(n)d.")
            result.errors.append((line, found % {"n": len(cells)}))
            continue
        try:
            destination = parse_destination(cells[0])
            price = parse_price(cells[1])
        except (BadDestination, ValueError) as exc:
            result.errors.append((line, str(exc)))
            continue
        if destination.prefix in seen:
            result.errors.append(
                (
                    line,
                    _("%(dest)s is already priced on line %(line)d.")
                    % {"dest": destination.label, "line": seen[destination.prefix]},
                )
            )
            continue
        seen[destination.prefix] = line
        result.rows.append((destination, price))
        if len(result.rows) > MAX_ROWS:
            result.errors.append((line, _("The file has more than 20,000 prices.")))
            break
    if not result.rows and not result.errors:
        result.errors.append((0, _("The file has no prices in it.")))
    return result


def replace_prices(account: ProviderAccount, parsed: PriceFile) -> int:
    """Replace `account`'s table with a checked file's rows (all or nothing)."""
    if parsed.errors:
        raise ValueError("a price file with errors is never imported")
    with transaction.atomic():
        DestinationPrice.objects.filter(account=account).delete()
        DestinationPrice.objects.bulk_create(
            DestinationPrice(
                account=account, prefix=d.prefix, country=d.country, price_per_part=price
            )
            for d, price in parsed.rows
        )
        audit.record("prices_imported", account, prices=len(parsed.rows))
    return len(parsed.rows)
