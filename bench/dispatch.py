"""Dispatch throughput, end to end through the sandbox over real sockets.

    .venv/bin/python bench/dispatch.py [--kwtsms 100000] [--isms 10000] [--smscentre 20000]
                                       [--postgres] [--cases kwtsms,isms] [--profile DIR]

For each case: a fresh database, the sandbox (`manage.py sandbox`) and task workers
(`manage.py worker`) as separate processes; then, in one more process, the confirm step
(`prepare` and `send`, which writes every delivery and enqueues the dispatch) and a wait until no
delivery is queued or sending. Prints deliveries per second from the confirm to the last
`submitted`, checks with the sandbox that every number arrived exactly once, and prints the
floor: the same number of deliveries bulk-updated to `submitted`, in batches as dispatch does,
with nothing else running. The ISMS case also times a bare client sending the same requests to
the same sandbox (`bare_isms`): issue 17 asks the portal for 0.9 of it; and the same requests
through urllib3 alone (`bare_client_urllib3`), what the client library itself costs.
`--personal` (issue 18) adds the same cases with a personalised text: KwtSMS with 10 distinct
texts (grouped into one request per text and batch), ISMS with every text distinct.
"""

from __future__ import annotations

import argparse
import json
import os
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

SEND = """
import django, json, sys, time
django.setup()
from smsportal.messaging.models import Delivery
from smsportal.messaging.sending import ResolvedRecipients, prepare, send
from smsportal.providers.models import ProviderAccount
kind, n, url, distinct = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
if kind == "smscentre":  # SMPP: one bind per worker process, a window of 10 submits
    account = ProviderAccount(name=kind, kind=kind, base_url=url, username="demo-smscentre")
    account.password = "demo-smc"
else:
    path = {"kwtsms": "/API/", "isms": "/websmsapi/"}[kind]
    account = ProviderAccount(name=kind, kind=kind, base_url=url + path, username=f"demo-{kind}",
                              options={"transport": "http"})
    account.password = f"demo-{kind}-pass"
account.save()
prefix = {"kwtsms": "+9655", "isms": "+6012", "smscentre": "+9656"}[kind]
phones = [f"{prefix}{i:07d}" for i in range(n)]
started = time.perf_counter()
if distinct:
    # Personalised: each phone's own value, as a mail merge gives it (`values`); `distinct`
    # texts in all (-1: every text differs).
    values = {p: {"ref": str(i if distinct < 0 else i % distinct)} for i, p in enumerate(phones)}
    recipients = ResolvedRecipients(phones=phones, values=values, known_fields=frozenset({"ref"}))
    message = send(prepare(account=account, body="Benchmark {ref}", recipients=recipients,
                           personal=True))
else:
    recipients = ResolvedRecipients(phones=phones)
    message = send(prepare(account=account, body="Benchmark", recipients=recipients))
created = time.perf_counter() - started
while Delivery.objects.filter(message=message, status__in=["queued", "sending"]).exists():
    time.sleep(0.05)
seconds = time.perf_counter() - started
counts = dict((s, Delivery.objects.filter(message=message, status=s).count())
              for s in ("submitted", "failed", "unknown"))
print(json.dumps({"seconds": seconds, "create_seconds": created, "counts": counts}))
"""

FLOOR = """
import django, json, sys, time
django.setup()
from django.db import transaction
from smsportal.messaging.models import Delivery, Message
from smsportal.providers.models import ProviderAccount
n = int(sys.argv[1])
account = ProviderAccount.objects.create(name="floor", kind="kwtsms", username="f", password="p")
message = Message.objects.create(account=account, body="x", encoding="GSM-7", segments=1)
Delivery.objects.bulk_create((Delivery(message=message, account=account, phone=f"+9655{i:07d}")
                              for i in range(n)), batch_size=5000)
ids = list(Delivery.objects.filter(message=message).order_by("id").values_list("id", flat=True))
started = time.perf_counter()
for start in range(0, n, 1000):
    chunk = ids[start:start + 1000]
    with transaction.atomic():
        Delivery.objects.filter(id__gte=chunk[0], id__lte=chunk[-1]).update(status="submitted")
print(json.dumps({"seconds": time.perf_counter() - started}))
"""


BARE_ISMS = """
import json, sys, time
from concurrent.futures import ThreadPoolExecutor
import requests
url, first, n, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
session = requests.Session()
adapter = requests.adapters.HTTPAdapter(pool_connections=threads, pool_maxsize=threads)
session.mount("http://", adapter)

def one(i):
    answer = session.post(url, data={"username": "demo-isms", "password": "demo-isms-pass",
                                     "message": "Benchmark", "mobile": f"6013{i:07d}",
                                     "sender": "", "type": "1", "seqno": f"bare-{i}"}, timeout=30)
    answer.raise_for_status()

started = time.perf_counter()
with ThreadPoolExecutor(threads) as pool:
    list(pool.map(one, range(first, first + n)))
print(json.dumps({"seconds": time.perf_counter() - started}))
"""

# The same floor through urllib3 alone (requests' transport; what the portal's pooled client
# sends through since issue 17): what the client library itself costs, beside requests'.
BARE_ISMS_URLLIB3 = """
import json, sys, time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode
import urllib3
url, first, n, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
pool = urllib3.PoolManager(maxsize=threads, retries=False)
headers = {"Content-Type": "application/x-www-form-urlencoded"}

def one(i):
    body = urlencode({"username": "demo-isms", "password": "demo-isms-pass",
                      "message": "Benchmark", "mobile": f"6014{i:07d}", "sender": "",
                      "type": "1", "seqno": f"bare3-{i}"})
    answer = pool.request("POST", url, body=body, headers=headers, timeout=30)
    if answer.status != 200:
        raise SystemExit(f"HTTP {answer.status}")

started = time.perf_counter()
with ThreadPoolExecutor(threads) as pool_:
    list(pool_.map(one, range(first, first + n)))
print(json.dumps({"seconds": time.perf_counter() - started}))
"""


def bare_isms(url: str, n: int, processes: int, env: dict, code: str = BARE_ISMS) -> dict:
    """The floor of the ISMS case (issue 17): the same requests (one ISendSMS per recipient,
    the portal's SEND_CONCURRENCY connections per worker process) from a bare client — a
    pooled requests.Session per process and nothing else — to the same sandbox, right after
    the portal's run. The portal's figure over this one is its share of what the sandbox and
    the client library allow."""
    threads = int(env.get("SEND_CONCURRENCY", 8))
    share = -(-n // processes)
    started = time.perf_counter()
    runs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                code,
                f"{url}/websmsapi/ISendSMS.aspx",
                str(k * share),
                str(min(share, n - k * share)),
                str(threads),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in range(processes)
    ]
    for run in runs:
        _out, err = run.communicate()
        if run.returncode:
            raise SystemExit(err[-3000:])
    seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 2), "requests_per_second": round(n / seconds)}


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a live process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_json(code: str, env: dict, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


PROFILE_DIR: str | None = None  # --profile


def case(kind: str, n: int, database_url: str, workers: int, distinct: int = 0) -> dict:
    env = django_env(database_url)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], env=env, cwd=ROOT, check=True)
    http_port, smpp_port = free_port(), free_port()
    sandbox = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "sandbox",
            "--http-port",
            str(http_port),
            "--smtp-port",
            str(free_port()),
            "--smpp-port",
            str(smpp_port),
            "--portal-url",
            "http://127.0.0.1:9",
            "--push-delay",
            "3600",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{http_port}"
    pool = []
    try:
        deadline = time.monotonic() + 60  # a loaded machine starts the sandbox slowly
        while True:
            try:
                requests.get(f"{url}/_sandbox/accounts", timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        requests.put(
            f"{url}/_sandbox/accounts/{kind}/demo-{kind}", json={"credit": 10**9}, timeout=5
        ).raise_for_status()
        profiled = lambda i: (  # noqa: E731
            ["-m", "cProfile", "-o", str(Path(PROFILE_DIR) / f"{kind}-worker-{i}.prof")]
            if PROFILE_DIR
            else []
        )
        pool = [
            subprocess.Popen(
                [sys.executable, *profiled(i), "manage.py", "worker", "--interval", "0.05"],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for i in range(workers)
        ]
        target = f"smpp://127.0.0.1:{smpp_port}" if kind == "smscentre" else url
        result = run_json(SEND, env, kind, str(n), target, str(distinct))
        # CPU seconds the workers and the sandbox used for the run: on a busy machine the wall
        # time measures the machine, this measures the code.
        worker_cpu = sum(cpu_seconds(proc.pid) for proc in pool)
        sandbox_cpu = cpu_seconds(sandbox.pid)
        counts = requests.get(f"{url}/_sandbox/counts", timeout=30).json()
        floor_client = floor_urllib3 = None
        if kind == "isms" and not distinct:
            floor_client = bare_isms(url, n, workers, env)
            floor_urllib3 = bare_isms(url, n, workers, env, BARE_ISMS_URLLIB3)
    finally:
        for proc in [*pool, sandbox]:
            if PROFILE_DIR and proc in pool:
                proc.terminate()  # a worker stops on SIGTERM, and cProfile writes its file
            else:
                proc.kill()
            proc.wait()
    received = sum(counts["counts"].values())
    extra = {}
    if floor_client:
        per_second = n / result["seconds"]
        extra = {
            "bare_client": floor_client,
            "ratio_to_bare_client": round(per_second / floor_client["requests_per_second"], 2),
            "bare_client_urllib3": floor_urllib3,
            "ratio_to_bare_urllib3": round(per_second / floor_urllib3["requests_per_second"], 2),
        }
    return {
        **extra,
        "recipients": n,
        "workers": workers,
        "distinct_texts": distinct or 1 if distinct >= 0 else n,
        "seconds": round(result["seconds"], 2),
        "deliveries_per_second": round(n / result["seconds"]),
        "confirm_step_seconds": round(result["create_seconds"], 2),
        "worker_cpu_seconds": round(worker_cpu, 2),
        "sandbox_cpu_seconds": round(sandbox_cpu, 2),
        "statuses": result["counts"],
        "sandbox_received": received,
        "sent_twice": len(counts["duplicates"]),
    }


def floor(n: int, database_url: str) -> dict:
    env = django_env(database_url)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], env=env, cwd=ROOT, check=True)
    seconds = run_json(FLOOR, env, str(n))["seconds"]
    return {"rows": n, "seconds": round(seconds, 2), "rows_per_second": round(n / seconds)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kwtsms", type=int, default=100_000)
    parser.add_argument("--isms", type=int, default=10_000)
    parser.add_argument("--isms-workers", type=int, default=1)
    parser.add_argument("--smscentre", type=int, default=20_000)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument(
        "--personal",
        action="store_true",
        help="issue 18: each case also personalised (KwtSMS 10 distinct texts, ISMS all distinct)",
    )
    parser.add_argument(
        "--cases", default="kwtsms,isms,smscentre", help="which cases to run, comma-separated"
    )
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="run each worker under cProfile, writing DIR/<kind>-worker-<n>.prof (slower: "
        "for finding where the time goes, not for figures)",
    )
    args = parser.parse_args()
    global PROFILE_DIR
    PROFILE_DIR = args.profile
    wanted = set(args.cases.split(","))
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = lambda name: f"sqlite:///{Path(tmp) / name}"  # noqa: E731
        out["floor_sqlite"] = floor(args.kwtsms, sqlite("floor.sqlite3"))
        if "kwtsms" in wanted:
            out["kwtsms_sqlite_1_worker"] = case("kwtsms", args.kwtsms, sqlite("kwt.sqlite3"), 1)
        if "kwtsms" in wanted and args.personal:
            out["kwtsms_sqlite_1_worker_10_texts"] = case(
                "kwtsms", args.kwtsms, sqlite("kwt-personal.sqlite3"), 1, distinct=10
            )
        if "isms" in wanted:
            out[f"isms_sqlite_{args.isms_workers}_worker"] = case(
                "isms", args.isms, sqlite("isms.sqlite3"), args.isms_workers
            )
        if "isms" in wanted and args.personal:
            out[f"isms_sqlite_{args.isms_workers}_worker_all_distinct"] = case(
                "isms", args.isms, sqlite("isms-personal.sqlite3"), args.isms_workers, distinct=-1
            )
        if "smscentre" in wanted:
            out["smscentre_sqlite_1_worker"] = case(
                "smscentre", args.smscentre, sqlite("smsc.sqlite3"), 1
            )
    if args.postgres:
        with ThrowawayPostgres() as pg:
            for name in ("floor", "kwt", "isms"):
                pg.create_database(name)
            out["floor_postgres"] = floor(args.kwtsms, pg.url("floor"))
            out["kwtsms_postgres_2_workers"] = case("kwtsms", args.kwtsms, pg.url("kwt"), 2)
            out["isms_postgres_2_workers"] = case("isms", args.isms, pg.url("isms"), 2)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
