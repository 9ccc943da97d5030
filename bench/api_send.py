"""POST /api/v1/messages per second into gunicorn on PostgreSQL, p99, against a floor measured in
the same run; then 1,000 concurrent duplicates of one Idempotency-Key.

    .venv/bin/python bench/api_send.py [--seconds 15] [--workers 2] [--connections 16]

Starts a throwaway PostgreSQL and gunicorn (2 workers) on 127.0.0.1, seeds a Manager, a KwtSMS
account and an API key, and drives the API from 16 keep-alive connections (client threads in
two processes, so the load generator is not held to one core by the GIL). Each request sends
"Your code is 1234" to one number with its own Idempotency-Key; no worker runs, so a message
stays queued and nothing reaches a provider: the figure is the API's accept rate.

The floor, timed the same way in the same run, is `POST /api/v1/preview` with the same body:
the same key check, throttle, JSON parsing and log line, the account read, the text analysed —
everything but the send path's writes. The ratio send/floor is what the send path costs.

Afterwards it checks that every 202 made exactly one message with one delivery (and nothing
else did), then fires 1,000 requests with one Idempotency-Key from 64 threads released at once
and checks that they made exactly one message and all answered with it.
Prints JSON; `bench/run_all` records it in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.settings_env import django_env  # noqa: E402
from tests.support.postgres import ThrowawayPostgres, free_port  # noqa: E402

SEED = """
import django, json
django.setup()
from django.contrib.auth.models import Group
from django.contrib.auth import get_user_model
from smsportal.api.models import ApiKey
from smsportal.departments.models import Department
from smsportal.providers.models import ProviderAccount
user = get_user_model().objects.create_user("bench", password="x" * 20)
user.groups.add(Group.objects.get(name="Manager"))
account = ProviderAccount.objects.create(
    name="Bench", kind="kwtsms", username="u", password="p", max_parts=5
)
department = Department.objects.create(name="Bench")
department.members.add(user)
key, secret = ApiKey.issue(user, "bench", ["send", "read"], department=department)
print(json.dumps({"account": account.pk, "secret": secret}))
"""

CHECK = """
import django, json, sys
django.setup()
from django.db.models import Count
from smsportal.api.models import ApiMessage, IdempotencyRecord
from smsportal.messaging.models import Delivery, Message
per_message = Message.objects.annotate(n=Count("deliveries")).values_list("n", flat=True)
print(json.dumps({
    "messages": Message.objects.count(),
    "deliveries": Delivery.objects.count(),
    "messages_without_one_delivery": sum(1 for n in per_message if n != 1),
    "via_api": ApiMessage.objects.count(),
    "idempotency_records": IdempotencyRecord.objects.count(),
    "duplicate_key_messages": IdempotencyRecord.objects.filter(key=sys.argv[1])
        .exclude(message=None).count(),
}))
"""


def run_python(code: str, env: dict, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if out.returncode:
        raise SystemExit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def drive(port, secret, path, body, seconds, threads, key_prefix, queue) -> None:
    """One client process: `threads` keep-alive connections, each sending until the deadline
    (a request started before it is waited for: every answer is counted)."""
    results = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def connection(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        i = 0
        while time.monotonic() < deadline:
            headers = {
                "Authorization": f"Bearer {secret}",
                "Content-Type": "application/json",
                "Idempotency-Key": f"{key_prefix}-{n}-{i}",
            }
            started = time.perf_counter()
            conn.request("POST", path, body=body, headers=headers)
            answer = conn.getresponse()
            answer.read()
            mine.append((answer.status, time.perf_counter() - started))
            i += 1
        conn.close()
        with lock:
            results.extend(mine)

    workers = [threading.Thread(target=connection, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    queue.put(results)


def load(port, secret, path, body, seconds, connections, label) -> dict:
    processes = 2
    queue = multiprocessing.Queue()
    started = time.monotonic()
    clients = [
        multiprocessing.Process(
            target=drive,
            args=(port, secret, path, body, seconds, connections // processes,
                  f"{label}-{p}", queue),
        )
        for p in range(processes)
    ]  # fmt: skip
    for client in clients:
        client.start()
    results = [row for _ in clients for row in queue.get()]
    for client in clients:
        client.join()
    elapsed = time.monotonic() - started
    latencies = sorted(seconds for _, seconds in results)
    statuses: dict[str, int] = {}
    for status, _ in results:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    return {
        "requests": len(results),
        "per_second": round(len(results) / elapsed, 1),
        "median_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
        "statuses": statuses,
    }


def duplicates(port, secret, body, count=1_000, threads=64) -> dict:
    """`count` requests with one Idempotency-Key, from `threads` threads released together."""
    key = f"dup-{uuid.uuid4()}"
    start = threading.Barrier(threads)
    answers = []
    lock = threading.Lock()

    def fire(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        start.wait()
        for _ in range(n):
            conn.request(
                "POST",
                "/api/v1/messages",
                body=body,
                headers={
                    "Authorization": f"Bearer {secret}",
                    "Content-Type": "application/json",
                    "Idempotency-Key": key,
                },
            )
            answer = conn.getresponse()
            data = answer.read()
            with lock:
                answers.append((answer.status, json.loads(data).get("message", {}).get("id")))
        conn.close()

    shares = [count // threads + (1 if i < count % threads else 0) for i in range(threads)]
    workers = [threading.Thread(target=fire, args=(n,)) for n in shares]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return {
        "key": key,
        "requests": len(answers),
        "statuses": sorted({status for status, _ in answers}),
        "message_ids": sorted({str(mid) for _, mid in answers}),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2, help="gthread threads per worker")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duplicates", type=int, default=1_000)
    args = parser.parse_args()

    with ThrowawayPostgres() as pg:
        pg.create_database("bench")
        env = django_env(pg.url("bench"), API_THROTTLE_RATE="", SECURE_SSL_REDIRECT="false")
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"], env=env, cwd=ROOT, check=True
        )
        seed = run_python(SEED, env)
        body = json.dumps(
            {"account": seed["account"], "to": ["+96597119440"], "text": "Your code is 1234"}
        ).encode()
        preview = json.dumps({"account": seed["account"], "text": "Your code is 1234"}).encode()
        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "smsportal.wsgi",
                "-w", str(args.workers), "--worker-class", "gthread",
                "--threads", str(args.threads), "-b", f"127.0.0.1:{port}",
                "--log-level", "warning",
            ],
            env={**env, "LOG_LEVEL": "ERROR"},
            cwd=ROOT,
        )  # fmt: skip
        try:
            time.sleep(4)
            for path, data in (("/api/v1/preview", preview), ("/api/v1/messages", body)):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                conn.request(
                    "POST",
                    path,
                    body=data,
                    headers={
                        "Authorization": f"Bearer {seed['secret']}",
                        "Content-Type": "application/json",
                        "Idempotency-Key": "warm-up",
                    },
                )
                answer = conn.getresponse()
                text = answer.read()
                if answer.status not in (200, 202):
                    raise SystemExit(f"{path} answered {answer.status}: {text[:500]!r}")
            load_before = os.getloadavg()[0]
            floor = load(
                port, seed["secret"], "/api/v1/preview", preview, args.seconds,
                args.connections, "floor",
            )  # fmt: skip
            send = load(
                port, seed["secret"], "/api/v1/messages", body, args.seconds,
                args.connections, "send",
            )  # fmt: skip
            dup = duplicates(port, seed["secret"], body, args.duplicates)
            load_after = os.getloadavg()[0]
        finally:
            server.terminate()
            server.wait(timeout=30)
        counts = run_python(CHECK, env, dup["key"])

    accepted = send["statuses"].get("202", 0) + 1  # + the warm-up send
    figures = {
        "send": send,
        "floor_preview": floor,
        "send_to_floor": round(send["per_second"] / floor["per_second"], 2),
        "accepted": accepted,
        **counts,
        "exactly_one_message_per_accepted_request": counts["messages"] == accepted + 1
        and counts["via_api"] == counts["messages"]
        and counts["messages_without_one_delivery"] == 0,
        "duplicates": {
            "requests": dup["requests"],
            "statuses": dup["statuses"],
            "distinct_message_ids": len(dup["message_ids"]),
            "messages_made": counts["duplicate_key_messages"],
            "exactly_one": dup["statuses"] == [202]
            and len(dup["message_ids"]) == 1
            and counts["duplicate_key_messages"] == 1,
        },
        "load_average_before_after": [round(load_before, 1), round(load_after, 1)],
        "cores": os.cpu_count(),
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
