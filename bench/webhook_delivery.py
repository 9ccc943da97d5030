"""Outgoing webhook delivery: events per second by one task worker to a local receiver, with and
without an endpoint that is down, against a floor measured in the same run.

    .venv/bin/python bench/webhook_delivery.py [--events 3000]

Starts a throwaway PostgreSQL and a small HTTP/1.1 receiver (a separate process on 127.0.0.1,
keep-alive, answering 200 "ok" after checking each request's signature), and makes two endpoints
A and B that point at it. Then, each phase with `--events` new incoming-SMS events per endpoint:

- floor: one process posting the same signed bodies to the receiver over a `requests.Session`,
  in a bare loop (no database) — what one process can post; taken at the start and again just
  before each phase below (the load of a shared machine changes from minute to minute);
- healthy: one worker (`manage.py worker`, the database task backend) woken for A and B;
- refused: the same, plus endpoint C whose port has nothing listening (connection refused);
- hanging: the same, plus endpoint D that accepts connections and never answers (each request
  waits for FORWARDING_TIMEOUT_SECONDS, 5 s).

A phase's rate is A's and B's events over the time from waking the worker until the receiver had
them all; the down endpoint is woken first, so its task runs before theirs. Afterwards it checks
that the receiver got every event of A and B exactly once with a valid signature, that every one
is marked delivered, and that the down endpoints' events are all still waiting (none lost, none
given up) after at most one attempt per batch.
Prints JSON; `bench/run_all` records it in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.server
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.settings_env import django_env  # noqa: E402
from tests.support.postgres import ThrowawayPostgres, free_port  # noqa: E402

SEED = """
import django, json, sys
django.setup()
from smsportal.forwarding.models import Endpoint
out = {}
for name, url in json.loads(sys.argv[1]).items():
    endpoint = Endpoint(name=name, url=url, on_incoming=True)
    out[name] = {"secret": endpoint.set_new_secret()}
    endpoint.save()
    out[name]["id"] = endpoint.pk
print(json.dumps(out))
"""

# N new events for each named endpoint, made as ingest makes them (events.queue: the body and
# its id), in batches of 500 per transaction. The bench wakes the worker itself when the clock
# starts, so none is woken here.
QUEUE = """
import django, json, sys
django.setup()
from django.db import transaction
from smsportal.forwarding import events
from smsportal.forwarding.models import EventType
events.wake = lambda endpoint_ids: None
ids, n, phase = json.loads(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
for start in range(0, n, 500):
    with transaction.atomic():
        for i in range(start, min(n, start + 500)):
            events.queue(ids, EventType.INCOMING, {
                "from": f"+9659{i:07d}", "to": "1234", "text": f"Hello {phase} {i}",
                "account": "ISMS", "message_id": i,
            })
print(json.dumps({"queued": n * len(ids)}))
"""

WAKE = """
import django, json, sys
django.setup()
from smsportal.forwarding.tasks import deliver_pending
for pk in json.loads(sys.argv[1]):
    deliver_pending.enqueue(pk)
print(json.dumps({"woken": len(json.loads(sys.argv[1]))}))
"""

BODIES = """
import django, json, sys
django.setup()
from smsportal.forwarding.models import Event
rows = Event.objects.filter(endpoint_id=int(sys.argv[1])).order_by("id")
print(json.dumps([[e.event_id, e.kind, e.body] for e in rows[: int(sys.argv[2])]]))
"""

CHECK = """
import django, json, sys
django.setup()
from django.db.models import Count, Max
from smsportal.forwarding.models import Attempt, Event
by = {}
for endpoint_id, status, n, most in Event.objects.values_list("endpoint_id", "status").annotate(
    n=Count("id"), most=Max("attempts")
):
    by.setdefault(str(endpoint_id), {})[status] = {"events": n, "most_attempts": most}
print(json.dumps({"events": by, "attempts": Attempt.objects.count()}))
"""


def run_python(code: str, env: dict, *args: str) -> dict | list:
    out = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if out.returncode:
        raise SystemExit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def receiver(port: int, secrets: dict, ready) -> None:
    """The receiving system: checks each signature, counts each event id per path."""
    seen: dict[str, dict[str, int]] = {}
    bad = [0]
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body are two writes: without this, each answer waits out the client's
        # delayed ACK (40 ms), and the receiver, not the portal, would be measured.
        disable_nagle_algorithm = True

        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:  # the counts, for the bench
            with lock:
                body = json.dumps({"seen": seen, "bad_signatures": bad[0]}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            timestamp = self.headers["X-Portal-Timestamp"].encode()
            secret = secrets.get(self.path, "").encode()
            expected = hmac.new(secret, timestamp + b"." + body, hashlib.sha256).hexdigest()
            given = [p.removeprefix("v1=") for p in self.headers["X-Portal-Signature"].split(",")]
            with lock:
                if not any(hmac.compare_digest(expected, g) for g in given):
                    bad[0] += 1
                mine = seen.setdefault(self.path, {})
                key = self.headers["X-Portal-Event-Id"]
                mine[key] = mine.get(key, 0) + 1
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    ready.set()
    server.serve_forever()


def receiver_counts(port: int) -> dict:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/stats")
    data = json.loads(conn.getresponse().read())
    conn.close()
    return data


def received(port: int, paths: list[str]) -> int:
    seen = receiver_counts(port)["seen"]
    return sum(len(seen.get(path, {})) for path in paths)


def floor(port: int, path: str, secret: str, bodies: list) -> dict:
    """A bare loop: the same signed requests over one requests.Session, no database."""
    import requests

    session = requests.Session()
    url = f"http://127.0.0.1:{port}{path}"
    started = time.perf_counter()
    for event_id, kind, body in bodies:
        timestamp = str(int(time.time()))
        signature = hmac.new(
            secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256
        ).hexdigest()
        response = session.post(
            url,
            data=body.encode(),
            headers={
                "Content-Type": "application/json",
                "X-Portal-Event": kind,
                "X-Portal-Event-Id": event_id,
                "X-Portal-Timestamp": timestamp,
                "X-Portal-Signature": f"v1={signature}",
            },
            timeout=(5, 5),
        )
        assert response.status_code == 200
    elapsed = time.perf_counter() - started
    return {"events": len(bodies), "per_second": round(len(bodies) / elapsed, 1)}


def phase(env, port, ids, names, healthy_paths, events, label) -> dict:
    target = received(port, healthy_paths) + events * len(healthy_paths)
    run_python(QUEUE, env, json.dumps([ids[n] for n in names]), str(events), label)
    started = time.perf_counter()
    run_python(WAKE, env, json.dumps([ids[n] for n in names]))
    deadline = started + 600
    while received(port, healthy_paths) < target and time.perf_counter() < deadline:
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    delivered = events * len(healthy_paths)
    return {
        "healthy_events": delivered,
        "seconds": round(elapsed, 2),
        "per_second": round(delivered / elapsed, 1),
        "complete": received(port, healthy_paths) >= target,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=3000, help="per healthy endpoint, per phase")
    args = parser.parse_args()

    with ThrowawayPostgres() as pg:
        pg.create_database("bench")
        env = django_env(pg.url("bench"), FORWARDING_PRIVATE_HOSTS="127.0.0.1", LOG_LEVEL="ERROR")
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"], env=env, cwd=ROOT, check=True
        )
        port = free_port()
        refused_port = free_port()  # nothing listens there
        hanging = socket.socket()  # accepts connections (the kernel does) and never answers
        hanging.bind(("127.0.0.1", 0))
        hanging.listen(64)
        urls = {
            "A": f"http://127.0.0.1:{port}/a",
            "B": f"http://127.0.0.1:{port}/b",
            "C refused": f"http://127.0.0.1:{refused_port}/c",
            "D hanging": f"http://127.0.0.1:{hanging.getsockname()[1]}/d",
        }
        seeded = run_python(SEED, env, json.dumps(urls))
        ids = {name: seeded[name]["id"] for name in urls}
        secrets = {
            "/a": seeded["A"]["secret"],
            "/b": seeded["B"]["secret"],
            "/floor": seeded["A"]["secret"],
        }
        ready = multiprocessing.Event()
        server = multiprocessing.Process(target=receiver, args=(port, secrets, ready), daemon=True)
        server.start()
        ready.wait(10)
        worker = None
        try:
            # The floor's bodies: events made as ingest makes them, for an endpoint never woken.
            run_python(QUEUE, env, json.dumps([ids["C refused"]]), str(args.events), "floor")
            bodies = run_python(BODIES, env, str(ids["C refused"]), str(args.events))
            load_before = os.getloadavg()[0]
            floor_figures = floor(port, "/floor", secrets["/floor"], bodies)
            worker = subprocess.Popen(
                [sys.executable, "manage.py", "worker", "--interval", "0.05"], env=env, cwd=ROOT
            )
            time.sleep(4)
            results = {"floor_bare_session": floor_figures}
            healthy = ["/a", "/b"]
            # On a shared machine the load changes from minute to minute: each phase is
            # compared with a floor taken just before it.
            for key, names, label in (
                ("healthy", ["A", "B"], "h"),
                ("one_refused", ["C refused", "A", "B"], "r"),
                ("one_hanging", ["D hanging", "A", "B"], "g"),
            ):
                before = floor(port, "/floor", secrets["/floor"], bodies)["per_second"]
                results[key] = phase(env, port, ids, names, healthy, args.events, label)
                results[key]["floor_just_before"] = before
                results[key]["to_floor"] = round(results[key]["per_second"] / before, 2)
            load_after = os.getloadavg()[0]
            time.sleep(1)
        finally:
            if worker:
                worker.terminate()
                worker.wait(timeout=60)
            counts = receiver_counts(port)
            server.terminate()
            hanging.close()
        check = run_python(CHECK, env)

    seen = counts["seen"]
    per_path = {path: list(seen.get(path, {}).values()) for path in ("/a", "/b")}
    phases = 3
    delivered = {
        name: check["events"].get(str(ids[name]), {}).get("delivered", {}).get("events", 0)
        for name in ("A", "B")
    }
    down_waiting = {
        name: check["events"].get(str(ids[name]), {}) for name in ("C refused", "D hanging")
    }
    results.update(
        {
            "healthy_to_floor": results["healthy"]["to_floor"],
            "refused_to_healthy": round(
                results["one_refused"]["per_second"] / results["healthy"]["per_second"], 2
            ),
            "hanging_to_healthy": round(
                results["one_hanging"]["per_second"] / results["healthy"]["per_second"], 2
            ),
            "down_endpoints": down_waiting,
            "accounted": {
                "every_event_once": all(
                    len(v) == phases * args.events and set(v) == {1} for v in per_path.values()
                ),
                "signatures_valid": counts["bad_signatures"] == 0,
                "marked_delivered": all(n == phases * args.events for n in delivered.values()),
                "down_events_waiting_not_lost": all(
                    set(v) == {"pending"} for v in down_waiting.values()
                ),
            },
            "load_average_before_after": [round(load_before, 1), round(load_after, 1)],
            "cores": os.cpu_count(),
        }
    )
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
