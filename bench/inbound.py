"""Incoming-SMS ingest with 20 keyword rules and 2 forwarding endpoints, on PostgreSQL.

    .venv/bin/python bench/inbound.py [--requests 3000] [--keyword-share 0.1]

Starts a throwaway PostgreSQL, seeds one ISMS account, 20 keyword rules and 2 endpoints that
want incoming SMS, then sends `GET /hooks/isms/<token>/incoming` through Django's test client in
one process (the whole request: middleware, token check, parsing, storing the SMS and its
conversation, the opt-out check, the keyword lookup, the forwarding events and their queued
tasks), each from a different number, a share of them starting with a rule's keyword. The same
run without rules and endpoints is the baseline. Afterwards it checks that every SMS was stored
once with its conversation, and that each has one event per endpoint. Prints JSON figures.

It measures the server's own work per request without an HTTP load generator (`wrk` is not
installed on every machine); gunicorn's own overhead comes on top.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.settings_env import django_env  # noqa: E402
from tests.support.postgres import ThrowawayPostgres  # noqa: E402

RUN = """
import django, json, statistics, sys, time
django.setup()
from django.test import Client
from smsportal.contacts.models import ContactList
from smsportal.forwarding.models import Endpoint, Event
from smsportal.keywords.models import KeywordRule
from smsportal.messaging.models import Conversation, InboundMessage
from smsportal.providers.models import ProviderAccount

requests, share = int(sys.argv[1]), float(sys.argv[2])
rules, label = sys.argv[3] == "1", sys.argv[4]
account = ProviderAccount.objects.create(
    name="ISMS " + label, kind="isms", username="u", password="p"
)
keywords = [f"WORD{i}" for i in range(20)]
if rules:
    offers = ContactList.objects.create(name="Offers " + label)
    for i, word in enumerate(keywords):
        KeywordRule.objects.create(
            account=account, keyword=word, reply=f"Reply {i}", add_to_list=offers if i % 2 else None
        )
    for n in range(2):
        endpoint = Endpoint(
            name=f"Endpoint {n}", url=f"https://hooks{n}.example.com/sms", on_incoming=True
        )
        endpoint.set_new_secret()
        endpoint.save()
client = Client()
path = f"/hooks/isms/{account.webhook_token}/incoming"
every = max(1, round(1 / share)) if share else 0
latencies = []
started = time.perf_counter()
for i in range(requests):
    text = f"{keywords[i % 20]} please" if every and i % every == 0 else f"Hello number {i}"
    t0 = time.perf_counter()
    response = client.get(path, {"Sender": f"9659{i:07d}", "Msg": text})
    latencies.append((time.perf_counter() - t0) * 1000)
    assert response.status_code == 200, (response.status_code, response.content)
elapsed = time.perf_counter() - started
latencies.sort()
stored = InboundMessage.objects.filter(account=account).count()
print(json.dumps({
    "label": label,
    "per_second": round(requests / elapsed),
    "p50_ms": round(latencies[len(latencies) // 2], 2),
    "p99_ms": round(latencies[int(len(latencies) * 0.99)], 2),
    "stored": stored,
    "conversations": Conversation.objects.filter(account=account).count(),
    "events": Event.objects.count() if rules else 0,
    "accounted": stored == requests
        and Conversation.objects.filter(account=account).count() == requests
        and (not rules or Event.objects.count() == 2 * requests),
}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--keyword-share", type=float, default=0.1)
    args = parser.parse_args()
    figures = {}
    with ThrowawayPostgres() as pg:
        pg.create_database("bench")
        # Tasks are only queued (database backend): no worker runs during the measurement.
        env = django_env(pg.url("bench"), TASKS_BACKEND="database", SECURE_SSL_REDIRECT="false")
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"], env=env, cwd=ROOT, check=True
        )
        for label, rules in (("baseline", "0"), ("rules_and_endpoints", "1")):
            out = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    RUN,
                    str(args.requests),
                    str(args.keyword_share),
                    rules,
                    label,
                ],
                env=env,
                cwd=ROOT,
                capture_output=True,
                text=True,
            )
            if out.returncode:
                raise SystemExit(out.stderr)
            figures[label] = json.loads(out.stdout.strip().splitlines()[-1])
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
