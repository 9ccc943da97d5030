"""A worker killed with SIGKILL in the middle of a 10,000-recipient send, then recovered.

    .venv/bin/python bench/crash.py [--recipients 10000] [--kill-after 3000] [--delay 0.2]
                                    [--postgres]

For ISMS (one request per recipient, deduplicated by `seqno`) and KwtSMS (200 per request, no
deduplication): a fresh database, the sandbox and one task worker as separate processes; the
confirm step (the sandbox answering each send in `--delay` seconds, as a real provider
takes a moment); SIGKILL once `--kill-after` deliveries are submitted. Then what the killed worker
left: `sending` (the requests that may have left: they become `unknown`, or at ISMS go again with
the same seqno), `queued` (certainly never sent: the next worker sends them), and how many of
the stranded ones the sandbox really received. After the lease runs out, the sweeper
(`manage.py sweep_deliveries`) and a new worker finish the message; the sandbox then says
whether any number got the message twice.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.settings_env import django_env  # noqa: E402
from tests.support.postgres import ThrowawayPostgres, free_port  # noqa: E402

LEASE = "2"

CREATE = """
import django, json, sys
django.setup()
from smsportal.messaging.sending import ResolvedRecipients, prepare, send
from smsportal.providers.models import ProviderAccount
kind, n, url = sys.argv[1], int(sys.argv[2]), sys.argv[3]
path = {"kwtsms": "/API/", "isms": "/websmsapi/"}[kind]
account = ProviderAccount(name=kind, kind=kind, base_url=url + path, username=f"demo-{kind}",
                          options={"transport": "http"})
account.password = f"demo-{kind}-pass"
account.save()
prefix = "+9655" if kind == "kwtsms" else "+6012"
phones = [f"{prefix}{i:07d}" for i in range(n)]
message = send(prepare(account=account, body="Crash drill",
                      recipients=ResolvedRecipients(phones=phones)))
print(json.dumps({"message": message.pk}))
"""

COUNTS = """
import django, json, sys, time
django.setup()
from django.db.models import Count
from smsportal.messaging.models import Delivery, Message
wait_for, at_least = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + 600
while True:
    counts = dict(Delivery.objects.values_list("status").annotate(n=Count("id")))
    done = not Message.objects.exclude(status__in=["done", "cancelled"]).exists()
    if (wait_for == "submitted" and counts.get("submitted", 0) >= at_least) or (
        wait_for == "done" and done) or wait_for == "now" or time.monotonic() > deadline:
        break
    time.sleep(0.02)
stranded = list(Delivery.objects.filter(status__in=["sending", "unknown"])
                .values_list("phone", flat=True))
print(json.dumps({"counts": counts, "stranded": stranded}))
"""


def run_json(code: str, env: dict, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def start(env: dict, *command: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", *command],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def case(kind: str, n: int, kill_after: int, delay: float, database_url: str) -> dict:
    env = django_env(database_url, SENDING_LEASE_SECONDS=LEASE)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], env=env, cwd=ROOT, check=True)
    http_port = free_port()
    sandbox = start(
        env,
        "sandbox",
        "--http-port",
        str(http_port),
        "--smtp-port",
        str(free_port()),
        "--smpp-port",
        str(free_port()),
        "--portal-url",
        "http://127.0.0.1:9",
        "--push-delay",
        "3600",
    )
    url = f"http://127.0.0.1:{http_port}"
    processes = [sandbox]
    try:
        for _ in range(50):
            try:
                requests.get(f"{url}/_sandbox/accounts", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        requests.put(
            f"{url}/_sandbox/accounts/{kind}/demo-{kind}",
            json={"credit": 10**9, "faults": {"delay": delay}},
            timeout=5,
        ).raise_for_status()
        run_json(CREATE, env, kind, str(n), url)
        worker = start(env, "worker", "--interval", "0.05")
        processes.append(worker)
        run_json(COUNTS, env, "submitted", str(kill_after))
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        time.sleep(0.5)  # requests already on the wire reach the sandbox
        at_kill = run_json(COUNTS, env, "now", "0")
        received = requests.get(f"{url}/_sandbox/counts", timeout=30).json()["counts"]
        left = {number.split(":", 1)[1] for number in received}
        stranded = at_kill["stranded"]
        really_left = sum(1 for phone in stranded if phone.lstrip("+") in left)

        time.sleep(float(LEASE) + 0.5)  # the dead worker's lease runs out
        subprocess.run(
            [sys.executable, "manage.py", "sweep_deliveries", "--older-than", "0"],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        processes.append(start(env, "worker", "--interval", "0.05"))
        final = run_json(COUNTS, env, "done", "0")
        after = requests.get(f"{url}/_sandbox/counts", timeout=30).json()
    finally:
        for proc in processes:
            proc.kill()
            proc.wait()
    return {
        "recipients": n,
        "provider_answer_seconds": delay,
        "at_kill": at_kill["counts"],
        "stranded_sending": len(stranded),
        "stranded_that_really_left": really_left,
        "never_sent_at_kill": at_kill["counts"].get("queued", 0),
        "final": final["counts"],
        "received_by_provider": sum(after["counts"].values()),
        "sent_twice": len(after["duplicates"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--kill-after", type=int, default=3_000)
    parser.add_argument(
        "--delay", type=float, default=0.2, help="seconds the sandbox takes to answer a send"
    )
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("isms", "kwtsms"):
            url = f"sqlite:///{Path(tmp) / kind}.sqlite3"
            out[f"{kind}_sqlite"] = case(kind, args.recipients, args.kill_after, args.delay, url)
    if args.postgres:
        with ThrowawayPostgres() as pg:
            for kind in ("isms", "kwtsms"):
                pg.create_database(kind)
                out[f"{kind}_postgres"] = case(
                    kind, args.recipients, args.kill_after, args.delay, pg.url(kind)
                )
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
