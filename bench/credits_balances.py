"""How fast the credits pages read balances when snapshots pile up (every KwtSMS batch adds one).

    .venv/bin/python bench/credits_balances.py [ACCOUNTS] [SNAPSHOTS_PER_ACCOUNT]

Builds a throwaway database (SQLite in a temporary directory, or DATABASE_URL if set: give it a
scratch database), fills it, and prints the time of `latest_balances()` (dashboard panel),
`check_affordable()` (compose) and `balance_history(7)` (the chart), best of 5 runs.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
TMP = tempfile.mkdtemp(prefix="bench-credits-")
atexit.register(shutil.rmtree, TMP, ignore_errors=True)
os.environ.setdefault("DATABASE_URL", f"sqlite:///{TMP}/bench.sqlite3")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smsportal.settings")
os.environ.setdefault("DEBUG", "true")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from smsportal.credits.affordability import check_affordable  # noqa: E402
from smsportal.credits.balances import latest_balances  # noqa: E402
from smsportal.credits.charts import balance_history  # noqa: E402
from smsportal.credits.models import BalanceSnapshot  # noqa: E402
from smsportal.providers.backends.base import Capabilities  # noqa: E402
from smsportal.providers.models import ProviderAccount  # noqa: E402


def best_of(n: int, function) -> float:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    accounts_n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    per_account = int(sys.argv[2]) if len(sys.argv) > 2 else 50_000
    call_command("migrate", verbosity=0)
    # No provider is called; the affordability check only reads `capabilities.balance`.
    ProviderAccount.backend_class = property(
        lambda self: type("B", (), {"capabilities": Capabilities(balance=True)})
    )
    accounts = ProviderAccount.objects.bulk_create(
        ProviderAccount(name=f"Bench {i}", kind="kwtsms", username=f"u{i}", webhook_token=f"t{i}")
        for i in range(accounts_n)
    )
    now = timezone.now()
    start = time.perf_counter()
    for account in accounts:
        BalanceSnapshot.objects.bulk_create(
            (
                BalanceSnapshot(
                    account=account,
                    amount=Decimal(per_account - j),
                    source="send",
                    taken_at=now - timedelta(seconds=30 * (per_account - j)),
                )
                for j in range(per_account)
            ),
            batch_size=5000,
        )
    fill = time.perf_counter() - start
    user = get_user_model().objects.create(username="bench")
    total = accounts_n * per_account
    print(f"database: {connection.vendor}; {accounts_n} accounts x {per_account} snapshots")
    print(f"fill: {total} snapshots in {fill:.1f} s")
    assert len(latest_balances()) == accounts_n
    print(f"latest_balances(): {best_of(5, latest_balances) * 1000:.1f} ms")
    one = accounts[0]
    print(
        "check_affordable(one account): "
        f"{best_of(5, lambda: check_affordable(one, Decimal(1), user)) * 1000:.1f} ms"
    )
    print(f"balance_history(7 days): {best_of(5, lambda: balance_history(7)) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
