"""Delivery-report ingest: ISMS callbacks per second into gunicorn on PostgreSQL, and p99 latency.

    .venv/bin/python bench/dlr_ingest.py [--deliveries 60000] [--seconds 15] [--workers 4]

Starts a throwaway PostgreSQL and gunicorn on 127.0.0.1, seeds one ISMS account and a message
whose deliveries wait for reports, then drives `GET /hooks/isms/<token>/dlr` with wrk (Debian's
`wrk`), each request for a different delivery. Afterwards it checks that every answered callback
moved exactly one delivery (one event each, no report lost, none applied twice).
Prints the figures; `bench/run_all` records them in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

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
local counter = 0
local threads = {}
function setup(thread)
  thread:set("offset", #threads * %(per_thread)d)
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


def run_python(code: str, env: dict, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if out.returncode:
        raise SystemExit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=60_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--threads", type=int, default=2, help="gthread threads per worker (keep-alive)"
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")

    with ThrowawayPostgres() as pg:
        pg.create_database("bench")
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
        }
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"], env=env, cwd=ROOT, check=True
        )
        token = run_python(SEED, env, str(args.deliveries))["token"]
        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "smsportal.wsgi",
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
            time.sleep(3)
            with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
                script.write(
                    WRK_SCRIPT
                    % {"per_thread": args.deliveries // 2, "path": f"/hooks/isms/{token}/dlr"}
                )
            result = subprocess.run(
                [
                    "wrk",
                    "-t2",
                    f"-c{args.connections}",
                    f"-d{args.seconds}s",
                    "--latency",
                    "-s",
                    script.name,
                    f"http://127.0.0.1:{port}/",
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        finally:
            server.terminate()
            server.wait(timeout=30)
        counts = run_python(CHECK, env)

    requests = int(re.search(r"(\d+) requests in", result).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", result)
    failed = int(errors.group(1)) if errors else 0
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", result).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", result)
    p99_ms = float(p99.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
    answered = requests - failed
    print(textwrap.dedent(result))
    figures = {
        "callbacks_per_second": rate,
        "p99_ms": p99_ms,
        "answered": answered,
        "non_2xx": failed,
        **counts,
        # wrk stops counting at the deadline while a few requests are still in flight, so the
        # server may have applied up to one more callback per connection than wrk saw answered.
        "accounted_exactly_once": counts["delivered"] == counts["events"]
        and answered <= counts["delivered"] <= answered + args.connections
        and counts["unmatched"] == 0,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
