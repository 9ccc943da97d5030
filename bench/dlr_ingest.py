"""Delivery-report ingest: ISMS callbacks per second into gunicorn on PostgreSQL, and p99 latency,
against a floor measured in the same run: the same SQL behind a bare WSGI app.

    .venv/bin/python bench/dlr_ingest.py [--deliveries 100000] [--seconds 15] [--workers 4]

Starts a throwaway PostgreSQL, seeds one ISMS account and a message whose deliveries wait for
reports (`--deliveries` for each phase), then runs two phases of `--seconds` each, in this order,
each driven by wrk (Debian's `wrk`) over the same connections, each request for a different
delivery (`GET /hooks/isms/<token>/dlr?MsgId=…&Status=6`):

- floor: `bench/dlr_floor.py`, a bare WSGI app (no Django request machinery) that runs the
  portal's own statements for a report (the account lookup by token, kept for the same few
  seconds; the one statement of `delivery_reports/apply_sql.py`; `last_report_at` once a minute),
  generated here from the portal's code;
- portal: `smsportal.wsgi`, the webhook.

With `--rounds N` each phase runs N times, interleaved (floor, portal, portal, floor, …) on
fresh deliveries, and each side's round of median rate is reported (a busy machine's load
moves during a run); `--portal-app` names another WSGI app for the portal's phase (Django's
full handler for every URL, for an A/B of the request path).

Both under the same gunicorn settings (`--workers`, `--threads`), against the same database and
the same seeded rows (each phase its own half). After each phase it checks that every answered
callback moved exactly one delivery (one event each, no report lost, none applied twice), and
counts the database's transactions per callback (each statement is its own, in autocommit): the
two phases must show the same SQL. Prints JSON; `bench/run_all` records it in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.postgres import ThrowawayPostgres, free_port  # noqa: E402

SEED = """
import django, json, sys
django.setup()
from smsportal.messaging.models import Delivery, Message
from smsportal.providers.models import ProviderAccount
n = int(sys.argv[1])
account = ProviderAccount.objects.create(
    name="ISMS bench", kind="isms", username="u", password="p"
)
message = Message.objects.create(
    account=account, body="x", encoding="GSM-7", segments=1, status="done"
)
Delivery.objects.bulk_create(
    (Delivery(message=message, account=account, phone=f"+6012{i:07d}", status="submitted",
              provider_message_id=f"D{i}") for i in range(n)),
    batch_size=5000,
)
print(json.dumps({"token": account.webhook_token}))
"""

# What the floor runs, from the portal's code (bench/dlr_floor.py).
FLOOR_SPEC = """
import django, json
django.setup()
from bench.dlr_floor import floor_spec
print(json.dumps(floor_spec()))
"""

CHECK = """
import django, json
django.setup()
from smsportal.messaging.models import Delivery, DeliveryEvent, UnmatchedReport
print(json.dumps({
    "delivered": Delivery.objects.filter(status="delivered").count(),
    "events": DeliveryEvent.objects.count(),
    "unmatched": UnmatchedReport.objects.count(),
}))
"""

WRK_SCRIPT = """
local threads = {}
function setup(thread)
  thread:set("offset", %(first)d + #threads * %(per_thread)d)
  table.insert(threads, thread)
end
function init(args)
  i = 0
end
request = function()
  local id = offset + i
  i = i + 1
  return wrk.format("GET", "%(path)s?MsgId=D" .. id .. "&Status=6&Sender=63633")
end
"""
WRK_THREADS = 2


def run_python(code: str, env: dict, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if out.returncode:
        raise SystemExit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def transactions(url: str) -> int:
    """The database's committed and rolled-back transactions so far (in autocommit, one per
    statement); a backend reports its own when it ends, so read after the server has stopped."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database"
            " WHERE datname = current_database()"
        ).fetchone()
    return row[0]


def wait_until_answering(port: int, server: subprocess.Popen) -> None:
    """Until gunicorn answers HTTP (`/`: the portal redirects to log in, the floor says not
    found; neither touches the database), then a second for the other workers to boot."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn stopped (exit code {server.returncode})")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/")
            conn.getresponse().read()
            conn.close()
            time.sleep(1)
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not answer within 60 s")


def wrk_figures(output: str) -> dict:
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    failed = int(errors.group(1)) if errors else 0
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", output)
    p99_ms = float(p99.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
    # A request that timed out at wrk may still have been applied by the server.
    timeouts = re.search(r"Socket errors:.*timeout (\d+)", output)
    return {
        "callbacks_per_second": rate,
        "p99_ms": round(p99_ms, 2),
        "answered": requests - failed,
        "non_2xx": failed,
        "timeouts": int(timeouts.group(1)) if timeouts else 0,
    }


def phase(app: str, first: int, token: str, env: dict, pg_url: str, args) -> dict:
    """One app under gunicorn, driven by wrk over deliveries D<first>… for --seconds; then
    checked."""
    port = free_port()
    before_counts = run_python(CHECK, env)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            app,
            "-w",
            str(args.workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(args.threads),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
    )
    try:
        wait_until_answering(port, server)
        before = transactions(pg_url)
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(
                WRK_SCRIPT
                % {
                    "first": first,
                    "per_thread": args.deliveries // WRK_THREADS,
                    "path": f"/hooks/isms/{token}/dlr",
                }
            )
        output = subprocess.run(
            [
                "wrk",
                f"-t{WRK_THREADS}",
                f"-c{args.connections}",
                f"-d{args.seconds}s",
                "--timeout",
                "10s",
                "--latency",
                "-s",
                script.name,
                f"http://127.0.0.1:{port}/",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        os.unlink(script.name)
    finally:
        server.terminate()
        server.wait(timeout=30)
    time.sleep(1)  # the server's backends end and report their transactions
    spent = transactions(pg_url) - before
    print(output, file=sys.stderr)
    figures = wrk_figures(output)
    if figures["answered"] > args.deliveries - args.connections:
        raise SystemExit(f"{app} answered more callbacks than seeded: raise --deliveries")
    after = run_python(CHECK, env)
    counts = {key: after[key] - before_counts[key] for key in after}
    answered = figures["answered"]
    return {
        **figures,
        **counts,
        "transactions_per_callback": round(spent / answered, 3) if answered else None,
        # wrk stops counting at the deadline while a few requests are still in flight, so the
        # server may have applied up to one more callback per connection than wrk saw answered
        # (and those wrk gave up waiting for).
        "accounted_exactly_once": counts["delivered"] == counts["events"]
        and answered <= counts["delivered"] <= answered + args.connections + figures["timeouts"]
        and counts["unmatched"] == 0
        and figures["non_2xx"] == 0,
    }


def median_run(results: list[dict]) -> dict:
    """Of several rounds of one app: the round of median rate, its p99 the median p99, and
    exactly-once only if it held in every round."""
    chosen = sorted(results, key=lambda r: r["callbacks_per_second"])[len(results) // 2]
    p99s = sorted(r["p99_ms"] for r in results)
    return {
        **chosen,
        "p99_ms": p99s[len(p99s) // 2],
        "accounted_exactly_once": all(r["accounted_exactly_once"] for r in results),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--deliveries", type=int, default=100_000, help="deliveries seeded for each phase"
    )
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--threads", type=int, default=2, help="gthread threads per worker (keep-alive)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="floor and portal phases each this many times, interleaved (the median is kept)",
    )
    parser.add_argument(
        "--portal-app",
        default="smsportal.wsgi",
        help="the portal's WSGI app for gunicorn; for an A/B of the request path, "
        "'django.core.wsgi:get_wsgi_application()' is Django's full handler for every URL",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")

    with ThrowawayPostgres() as pg, tempfile.TemporaryDirectory() as tmp:
        pg.create_database("bench")
        spec = Path(tmp) / "floor.json"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "smsportal.settings",
            "DATABASE_URL": pg.url("bench"),
            "DEBUG": "false",
            "SECRET_KEY": "bench-" + "x" * 50,
            "FIELD_ENCRYPTION_KEY": "kJ3y4kQ3m4M9oYg1sQmJ3eX1n8lq1Xl1x1bq8tq0WcM=",
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "LOG_LEVEL": "WARNING",
            "DLR_FLOOR_SPEC": str(spec),
        }
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"], env=env, cwd=ROOT, check=True
        )
        token = run_python(SEED, env, str(2 * args.rounds * args.deliveries))["token"]
        spec.write_text(json.dumps(run_python(FLOOR_SPEC, env)))
        runs = {"floor": [], "portal": []}
        apps = [("floor", "bench.dlr_floor:application"), ("portal", args.portal_app)]
        first = 0
        for number in range(args.rounds):
            # Interleaved, each round in the other order: a change in the machine's load
            # during the run falls on both.
            for name, app in apps if number % 2 == 0 else apps[::-1]:
                runs[name].append(phase(app, first, token, env, pg.url("bench"), args))
                first += args.deliveries

    floor, portal = median_run(runs["floor"]), median_run(runs["portal"])
    figures = {
        # The portal's figures at the top level, as before the floor was added.
        **portal,
        "floor": floor,
        "ratio_to_floor": round(portal["callbacks_per_second"] / floor["callbacks_per_second"], 2),
        "gunicorn": f"{args.workers} workers × {args.threads} "
        f"thread{'s' if args.threads != 1 else ''} (gthread)",
        "connections": args.connections,
        "seconds": args.seconds,
        "portal_app": args.portal_app,
    }
    if args.rounds > 1:
        figures["rounds"] = {
            name: [(r["callbacks_per_second"], r["p99_ms"]) for r in results]
            for name, results in runs.items()
        }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
