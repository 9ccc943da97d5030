"""Route resolution for 1,000,000 recipients: 100 prefix rules, 5 accounts with 100 prices each.

    .venv/bin/python bench/routing.py [--recipients 1000000] [--rules 100]

On a fresh migrated SQLite database: saves the routes and price tables, then times
`routing.service.router_for(...)` (loading rules, accounts, prices and sender IDs) plus
`Router.split(phones)` over the numbers (each number's account and route), and counts the
queries it made (never one per recipient). Best of 3. The floor, timed in the same run: the
same million numbers grouped by their first digits into lists, with no routing at all (the
least any set-based resolution must do). Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.settings_env import django_env  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=1_000_000)
    parser.add_argument("--rules", type=int, default=100)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="bench-routing-")
    os.environ.update(django_env(f"sqlite:///{folder}/bench.sqlite3"))

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call_command("migrate", verbosity=0)
    from smsportal.providers.models import ProviderAccount
    from smsportal.routing.models import DestinationPrice, Route, RouteAccount
    from smsportal.routing.service import router_for

    rng = random.Random(21)
    kinds = ["kwtsms", "isms", "kalasms", "intellisoftware", "smscentre"]
    accounts = [
        ProviderAccount.objects.create(
            name=f"Bench {kind}", kind=kind, username="u", price_per_segment=Decimal("0.05")
        )
        for kind in kinds
    ]
    # Gulf-like numbering: country codes and two-digit operator ranges within them.
    countries = ["965", "966", "971", "973", "974", "968", "20", "44", "91", "1"]
    prefixes = sorted({c + str(rng.randint(10, 99)) for c in countries for _ in range(15)})
    for account in accounts:
        DestinationPrice.objects.bulk_create(
            DestinationPrice(
                account=account,
                prefix=p,
                price_per_part=Decimal(rng.randint(5, 60)) / 1000,
            )
            for p in rng.sample(prefixes, 100)
        )
    for n in range(args.rules):
        route = Route.objects.create(
            name=f"Rule {n}",
            position=n,
            destinations=" ".join("+" + p for p in rng.sample(prefixes, 1)),
            strategy="cheapest" if n % 2 else "ordered",
        )
        for position, account in enumerate(rng.sample(accounts, 3)):
            RouteAccount.objects.create(route=route, account=account, position=position)
    catch_all = Route.objects.create(name="Everything else", position=args.rules + 1)
    RouteAccount.objects.create(route=catch_all, account=accounts[0], position=0)

    phones = [
        "+" + rng.choice(prefixes) + str(rng.randint(0, 10**6 - 1)).zfill(6)
        for _ in range(args.recipients)
    ]
    from collections import deque
    from operator import call, itemgetter

    def floor() -> float:
        started = time.perf_counter()
        keys = list(map(itemgetter(slice(0, 6)), phones))
        appends = {key: [].append for key in set(keys)}
        deque(map(call, map(appends.__getitem__, keys), phones), maxlen=0)
        return time.perf_counter() - started

    floors = [floor() for _ in range(3)]
    runs = []
    for _ in range(3):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            split = router_for(body="Your order has shipped.").split(phones)
            elapsed = time.perf_counter() - started
        runs.append(elapsed)
    print(
        json.dumps(
            {
                "recipients": args.recipients,
                "rules": args.rules + 1,
                "accounts": len(accounts),
                "prices_per_account": 100,
                "seconds_best_of_3": round(min(runs), 3),
                "seconds_runs": [round(r, 3) for r in runs],
                "floor_seconds_best_of_3": round(min(floors), 3),
                "ratio_to_floor": round(min(runs) / min(floors), 2),
                "load_average": round(os.getloadavg()[0], 1),
                "queries": len(queries.captured_queries),
                "routes_used": len(split.by_route),
                "accounts_used": {str(k): len(v) for k, v in split.by_account.items()},
                "refused": len(split.refused),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
