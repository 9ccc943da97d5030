"""Incoming-SMS ingest with 20 keyword rules and 2 forwarding endpoints, through gunicorn on
PostgreSQL, against a floor measured in the same run.

    .venv/bin/python bench/inbound.py [--seconds 15] [--workers 2] [--connections 16]

Starts a throwaway PostgreSQL and gunicorn (2 gthread workers, 2 threads each) on 127.0.0.1 and
drives it from 16 keep-alive connections (client threads in two processes, so the load generator
is not held to one core by the GIL). Three phases of `--seconds` each, in this order:

- floor: `GET /hooks/isms/<token>/dlr`, each request a delivery report for a different delivery
  (the delivery-report path: the same middleware, token check and parsing, one SQL statement);
- plain: `GET /hooks/isms/<token>/incoming` to an account with no rules and no endpoint;
- rules: the same to an account with 20 keyword rules (half of them add the sender to a list)
  and 2 forwarding endpoints that want its incoming SMS.

The traffic of both ingest phases: 88% ordinary texts, 10% starting with one of the rules'
keywords, 1% HELP and 1% STOP; each number writes twice (its second SMS finds its conversation).
No task worker runs: the figure is ingest (the SMS, its conversation, opt-outs, the forwarding
events and the queued tasks), not the replies or the deliveries to endpoints.

Afterwards it checks that every answered request stored exactly one SMS, that the conversations
and the opt-outs are what the traffic makes, that each SMS of the rules phase has one event per
endpoint, and that exactly the keyword SMS (rules, HELP, STOP) queued their keyword task.
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
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.settings_env import django_env  # noqa: E402
from tests.support.postgres import ThrowawayPostgres, free_port  # noqa: E402

RULES = 20
ENDPOINTS = 2

SEED = """
import django, json, sys
django.setup()
from smsportal.contacts.models import ContactList
from smsportal.forwarding.models import Endpoint
from smsportal.keywords.models import KeywordRule
from smsportal.messaging.models import Delivery, Message
from smsportal.providers.models import ProviderAccount
deliveries, rules, endpoints = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
reports = ProviderAccount.objects.create(
    name="ISMS reports", kind="isms", username="u", password="p"
)
message = Message.objects.create(
    account=reports, body="x", encoding="GSM-7", segments=1, status="done"
)
Delivery.objects.bulk_create(
    (Delivery(message=message, account=reports, phone=f"+6012{i:07d}", status="submitted",
              provider_message_id=f"D{i}") for i in range(deliveries)),
    batch_size=5000,
)
plain = ProviderAccount.objects.create(name="ISMS plain", kind="isms", username="u", password="p")
ruled = ProviderAccount.objects.create(name="ISMS rules", kind="isms", username="u", password="p")
offers = ContactList.objects.create(name="Offers")
for i in range(rules):
    KeywordRule.objects.create(
        account=ruled, keyword=f"WORD{i}", reply=f"Reply {i}", add_to_list=offers if i % 2 else None
    )
for n in range(endpoints):
    endpoint = Endpoint(
        name=f"Endpoint {n}", url=f"https://hooks{n}.example.com/sms", on_incoming=True
    )
    endpoint.set_new_secret()
    endpoint.save()
    endpoint.accounts.set([ruled])
print(json.dumps({
    "reports": reports.webhook_token, "plain": plain.webhook_token, "rules": ruled.webhook_token,
    "plain_id": plain.pk, "rules_id": ruled.pk,
}))
"""

CHECK = """
import django, json, sys
django.setup()
from django_tasks_db.models import DBTaskResult
from smsportal.contacts.models import OptOut
from smsportal.forwarding.models import Event
from smsportal.messaging.models import Conversation, Delivery, DeliveryEvent, InboundMessage
figures = {"delivered": Delivery.objects.filter(status="delivered").count(),
           "delivery_events": DeliveryEvent.objects.count()}
for label, pk in (("plain", int(sys.argv[1])), ("rules", int(sys.argv[2]))):
    figures[label] = {
        "stored": InboundMessage.objects.filter(account_id=pk).count(),
        "conversations": Conversation.objects.filter(account_id=pk).count(),
        "incoming_counted": sum(
            Conversation.objects.filter(account_id=pk).values_list("incoming", flat=True)
        ),
    }
figures["rules"]["events"] = Event.objects.count()
figures["opt_outs"] = OptOut.objects.count()
tasks = DBTaskResult.objects.values_list("task_path", flat=True)
figures["keyword_tasks"] = sum(1 for t in tasks if t.endswith("handle_keyword"))
figures["delivery_tasks"] = sum(1 for t in tasks if t.endswith("deliver_pending"))
print(json.dumps(figures))
"""


def run_python(code: str, env: dict, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if out.returncode:
        raise SystemExit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def sms_text(n: int) -> str:
    """The n-th SMS of the traffic mix (see the docstring)."""
    slot = n % 100
    if slot < 10:
        return f"WORD{n % RULES} please"
    if slot == 10:
        return "HELP"
    if slot == 11:
        return "STOP"
    return f"Hello, is the shop open today? ({n})"


def request_path(kind: str, token: str, n: int) -> str:
    if kind == "dlr":
        return f"/hooks/isms/{token}/dlr?MsgId=D{n}&Status=6&Sender=63633"
    # Each number writes twice: SMS n comes from number n // 2 (different numbers per phase).
    number = f"9655{n // 2:07d}" if kind == "plain" else f"9656{n // 2:07d}"
    return f"/hooks/isms/{token}/incoming?" + urlencode({"Sender": number, "Msg": sms_text(n)})


def drive(port, kind, token, seconds, threads, first, stride, queue) -> None:
    """One client process: `threads` keep-alive connections, each sending until the deadline;
    connection c of this process sends request numbers first + c, first + c + stride, ..."""
    results = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def connection(c: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        n = first + c
        while time.monotonic() < deadline:
            started = time.perf_counter()
            conn.request("GET", request_path(kind, token, n))
            answer = conn.getresponse()
            answer.read()
            mine.append((answer.status, time.perf_counter() - started, n))
            n += stride
        conn.close()
        with lock:
            results.extend(mine)

    workers = [threading.Thread(target=connection, args=(c,)) for c in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    queue.put(results)


def load(port, kind, token, seconds, connections) -> dict:
    processes = 2
    per = connections // processes
    queue = multiprocessing.Queue()
    started = time.monotonic()
    clients = [
        multiprocessing.Process(
            target=drive,
            args=(port, kind, token, seconds, per, p * per, connections, queue),
        )
        for p in range(processes)
    ]
    for client in clients:
        client.start()
    results = [row for _ in clients for row in queue.get()]
    for client in clients:
        client.join()
    elapsed = time.monotonic() - started
    latencies = sorted(s for _, s, _ in results)
    statuses: dict[str, int] = {}
    for status, _, _ in results:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    ok = [n for status, _, n in results if status == 200]
    return {
        "requests": len(results),
        "per_second": round(len(results) / elapsed, 1),
        "median_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
        "statuses": statuses,
        "_ok": ok,
    }


def expected(numbers: list[int]) -> dict:
    """What the answered SMS numbers must have made."""
    texts = [sms_text(n) for n in numbers]
    return {
        "stored": len(numbers),
        "conversations": len({n // 2 for n in numbers}),
        "rule_keyword": sum(1 for t in texts if t.startswith("WORD")),
        "help_stop": sum(1 for t in texts if t in ("HELP", "STOP")),
        "stop_numbers": len({n // 2 for n in numbers if sms_text(n) == "STOP"}),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2, help="gthread threads per worker")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--deliveries", type=int, default=60_000, help="for the floor")
    parser.add_argument(
        "--portal-app",
        default="smsportal.wsgi",
        help="the portal's WSGI app for gunicorn; for an A/B of the request path, "
        "'django.core.wsgi:get_wsgi_application()' is Django's full handler for every URL",
    )
    args = parser.parse_args()

    with ThrowawayPostgres() as pg:
        pg.create_database("bench")
        env = django_env(pg.url("bench"), SECURE_SSL_REDIRECT="false", LOG_LEVEL="ERROR")
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"], env=env, cwd=ROOT, check=True
        )
        seed = run_python(SEED, env, str(args.deliveries), str(RULES), str(ENDPOINTS))
        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", args.portal_app,
                "-w", str(args.workers), "--worker-class", "gthread",
                "--threads", str(args.threads), "-b", f"127.0.0.1:{port}",
                "--log-level", "warning",
            ],
            env=env,
            cwd=ROOT,
        )  # fmt: skip
        try:
            time.sleep(4)
            # Warm-up: every worker's first request (imports, connections) is not measured.
            for _ in range(4 * args.workers):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                conn.request("GET", f"/hooks/isms/{seed['reports']}/dlr?MsgId=none&Status=6")
                conn.getresponse().read()
                conn.close()
            load_before = os.getloadavg()[0]
            floor = load(port, "dlr", seed["reports"], args.seconds, args.connections)
            plain = load(port, "plain", seed["plain"], args.seconds, args.connections)
            rules = load(port, "rules", seed["rules"], args.seconds, args.connections)
            load_after = os.getloadavg()[0]
        finally:
            server.terminate()
            server.wait(timeout=30)
        counts = run_python(CHECK, env, str(seed["plain_id"]), str(seed["rules_id"]))

    want_plain, want_rules = expected(plain.pop("_ok")), expected(rules.pop("_ok"))
    answered_reports = len(floor.pop("_ok"))
    got_plain, got_rules = counts["plain"], counts["rules"]
    figures = {
        "floor_dlr": floor,
        "plain": plain,
        "rules_and_endpoints": rules,
        "rules_to_floor": round(rules["per_second"] / floor["per_second"], 2),
        "plain_to_floor": round(plain["per_second"] / floor["per_second"], 2),
        "traffic": "88% plain, 10% a rule's keyword, 1% HELP, 1% STOP; 2 SMS per number",
        "counts": counts,
        "accounted": {
            "reports_exactly_once": counts["delivered"]
            == counts["delivery_events"]
            == answered_reports,
            "every_sms_stored_once": got_plain["stored"] == want_plain["stored"]
            and got_rules["stored"] == want_rules["stored"],
            "conversations": got_plain["conversations"] == want_plain["conversations"]
            and got_rules["conversations"] == want_rules["conversations"]
            and got_plain["incoming_counted"] == want_plain["stored"]
            and got_rules["incoming_counted"] == want_rules["stored"],
            "one_event_per_endpoint": got_rules["events"] == ENDPOINTS * want_rules["stored"],
            # The plain account has no rule, but HELP and STOP are answered on every account.
            "keyword_tasks": counts["keyword_tasks"]
            == want_rules["rule_keyword"] + want_rules["help_stop"] + want_plain["help_stop"],
            "opt_outs": counts["opt_outs"]
            == want_plain["stop_numbers"] + want_rules["stop_numbers"],
        },
        "load_average_before_after": [round(load_before, 1), round(load_after, 1)],
        "cores": os.cpu_count(),
        "portal_app": args.portal_app,
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
