"""Kannel (Debian's `kannel`: bearerbox + smsbox) against the same sandbox SMPP server, for
comparison with bench/dispatch.py's SMS Centre case.

    .venv/bin/python bench/kannel_smpp.py [--messages 10000] [--window 10]

Starts the sandbox, a bearerbox bound as a transceiver with `max-pending-submits` = window, and an
smsbox; posts the messages to smsbox's `sendsms` from 8 threads; prints messages per second
from the first request until the sandbox has received every one, and how many arrived twice.
Kannel keeps its queue in memory here (no store file), so it writes nothing per message, unlike
the portal (which writes every delivery, its outcome and its event).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.settings_env import django_env  # noqa: E402
from tests.support.postgres import free_port  # noqa: E402

CONFIG = """
group = core
admin-port = {admin}
admin-password = bench
smsbox-port = {smsbox}
log-level = 4
log-file = "{tmp}/bearerbox.log"
box-allow-ip = "127.0.0.1"

group = smsc
smsc = smpp
smsc-id = sandbox
host = 127.0.0.1
port = {smpp}
transceiver-mode = true
smsc-username = demo-smscentre
smsc-password = demo-smc
system-type = ""
max-pending-submits = {window}

group = smsbox
bearerbox-host = 127.0.0.1
sendsms-port = {sendsms}
log-level = 4
log-file = "{tmp}/smsbox.log"

group = sendsms-user
username = bench
password = bench
max-messages = 1
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--window", type=int, default=10)
    args = parser.parse_args()
    if not shutil.which("bearerbox"):
        raise SystemExit("Kannel is not installed (apt-get install kannel).")
    env = django_env(f"sqlite:///{tempfile.mkdtemp()}/k.sqlite3")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], env=env, cwd=ROOT, check=True)
    http, smpp = free_port(), free_port()
    ports = {"admin": free_port(), "smsbox": free_port(), "sendsms": free_port()}
    procs = []
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "kannel.conf"
        conf.write_text(CONFIG.format(tmp=tmp, smpp=smpp, window=args.window, **ports))
        try:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "manage.py", "sandbox", "--http-port", str(http),
                     "--smtp-port", str(free_port()), "--smpp-port", str(smpp),
                     "--portal-url", "http://127.0.0.1:9"],
                    env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )
            )  # fmt: skip
            url = f"http://127.0.0.1:{http}"
            for _ in range(100):
                try:
                    requests.get(f"{url}/_sandbox/accounts", timeout=1)
                    break
                except requests.ConnectionError:
                    time.sleep(0.2)
            requests.put(
                f"{url}/_sandbox/accounts/smscentre/demo-smscentre", json={"credit": 10**9},
                timeout=5,
            ).raise_for_status()  # fmt: skip
            procs.append(
                subprocess.Popen(
                    ["bearerbox", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
            )
            time.sleep(2)
            procs.append(
                subprocess.Popen(
                    ["smsbox", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
            )
            time.sleep(3)
            session = requests.Session()
            send = f"http://127.0.0.1:{ports['sendsms']}/cgi-bin/sendsms"

            def post(i: int) -> int:
                return session.get(
                    send,
                    params={"username": "bench", "password": "bench", "from": "PORTAL",
                            "to": f"9657{i:07d}", "text": "Benchmark", "dlr-mask": "0"},
                    timeout=30,
                ).status_code  # fmt: skip

            started = time.perf_counter()
            with ThreadPoolExecutor(8) as pool:
                codes = list(pool.map(post, range(args.messages)))
            accepted = time.perf_counter() - started
            received, counts = 0, {}
            deadline = time.monotonic() + 600
            while received < args.messages and time.monotonic() < deadline:
                counts = requests.get(f"{url}/_sandbox/counts", timeout=30).json()
                received = sum(counts["counts"].values())
                time.sleep(0.1)
            seconds = time.perf_counter() - started
        finally:
            for proc in reversed(procs):
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
    print(
        json.dumps(
            {
                "messages": args.messages,
                "window": args.window,
                "http_accepted": sum(1 for code in codes if code in (200, 202)),
                "http_seconds": round(accepted, 2),
                "seconds": round(seconds, 2),
                "messages_per_second": round(args.messages / seconds),
                "sandbox_received": received,
                "sent_twice": len(counts.get("duplicates", [])),
            }
        )
    )


if __name__ == "__main__":
    main()
