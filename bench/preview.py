"""Compose preview round trip: a 1,600-character text posted the way htmx posts it.

    .venv/bin/python bench/preview.py [--requests 300]

Starts the portal (gunicorn, one worker, a fresh SQLite file) on 127.0.0.1, logs in, and times
the preview request over one keep-alive connection, for a GSM-7 text and for a UCS-2 one.
Gunicorn runs as docs/deployment.md recommends (`gthread`, `--keep-alive 5`): its default `sync`
worker closes the connection after every answer, so each request paid a new TCP connection
that neither a browser behind the recommended set-up nor htmx pays.
Prints median and p95 in milliseconds; the same request with an empty text (the request's
floor: form, recipients and page without text work); the round trip of a request the portal
does no work for (a static file whitenoise answers, over the same connection: what HTTP, the
server and this client cost); the same preview timed inside Django (the test client, no
network: the server's own time, as bench/message_pages.py times its pages); the time
`analyse()` alone takes, and its
floor: a set-based count of the same text (the alphabet from the set of its characters, the
units by counting the two-unit ones, the parts by slicing), the least work giving the answer.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.postgres import free_port  # noqa: E402

SETUP = """
import django
django.setup()
from django.contrib.auth import get_user_model
from smsportal.providers.models import ProviderAccount
get_user_model().objects.create_superuser("bench", "", "bench-pass-123")
account = ProviderAccount.objects.create(
    name="Bench", kind="kwtsms", username="u", password="p", max_parts=30
)
print(account.pk)
"""

# The same preview inside Django: the test client posts it as htmx does (form-encoded), the
# text's request and the empty text's interleaved; the median of each, in milliseconds.
IN_PROCESS = """
import django, json, statistics, sys, time
from urllib.parse import urlencode
django.setup()
from django.contrib.auth import get_user_model
from django.test import Client
from bench.preview import TEXTS, keystroke
account_id, requests = sys.argv[1], int(sys.argv[2])
client = Client(HTTP_HOST="127.0.0.1")
client.force_login(get_user_model().objects.get(username="bench"))
def body(text):
    return urlencode({"account": account_id, "recipients": "+96550000001\\n+96550000002",
                      "text": text, "action": "preview"})
out = {}
for name, text in TEXTS.items():
    timings = {"server_ms": [], "server_empty_text_ms": []}
    for i in range(requests + 20):
        typed = (("server_ms", body(keystroke(text, i))), ("server_empty_text_ms", body("")))
        for key, payload in typed:
            start = time.perf_counter()
            response = client.post("/messages/compose/", payload, HTTP_HX_REQUEST="true",
                                   content_type="application/x-www-form-urlencoded")
            elapsed = (time.perf_counter() - start) * 1000
            assert response.status_code == 200 and b"preview-figures" in response.content
            if i >= 20:
                timings[key].append(elapsed)
    out[name] = {key: round(statistics.median(values), 2) for key, values in timings.items()}
print(json.dumps(out))
"""

TEXTS = {
    "GSM-7": ("The quick brown fox jumps over the lazy dog [€] " * 40)[:1600],
    "UCS-2": ("مرحبا بكم في بوابة الرسائل 😀 " * 60)[:1600],
}


def keystroke(text: str, i: int) -> str:
    """The text as typed by the `i`th request: its last characters differ from one request to
    the next, as a person's typing does, so nothing kept from an earlier request's text (the
    encoding module keeps the last few texts' characters) answers for this one."""
    return text[:-4] + f"{i % 10_000:04d}"


def set_based_floor(text: str) -> tuple[str, int, int]:
    """The alphabet, units and parts of `text`, with the least work: set operations, counting
    and slicing (no care for a part boundary inside a two-unit character)."""
    from smsportal.sms.encoding import GSM_CHARACTERS, GSM_EXTENDED

    chars = set(text)
    if chars <= GSM_CHARACTERS:
        alphabet, per_part = "GSM-7", 153
        units = len(text) + sum(text.count(c) for c in chars & GSM_EXTENDED)
    else:
        alphabet, per_part = "UCS-2", 67
        units = len(text.encode("utf-16-le", "surrogatepass")) // 2
    parts = [text[i : i + per_part] for i in range(0, len(text), per_part)]
    return alphabet, units, len(parts)


def per_call_ms(function, text: str, calls: int = 2000) -> float:
    """The best of five rounds of `calls` calls, in milliseconds per call. Each call meets the
    text as a new one: the encoding module keeps the characters of the last few texts
    (`distinct_characters`), which a preview asks several times of one text, but each
    keystroke's text is new, so the kept characters are forgotten before every call (for the
    floor too, so both pay the same)."""
    from smsportal.sms.encoding import _kept_characters

    forget = _kept_characters.cache_clear
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(calls):
            forget()
            function(text)
        best = min(best, time.perf_counter() - start)
    return best * 1000 / calls


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="smsportal-bench-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "smsportal.settings",
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + "x" * 50,
        "FIELD_ENCRYPTION_KEY": "kJ3y4kQ3m4M9oYg1sQmJ3eX1n8lq1Xl1x1bq8tq0WcM=",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "LOG_LEVEL": "WARNING",
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], env=env, cwd=ROOT, check=True)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
        env=env,
        cwd=ROOT,
        check=True,
    )
    account_id = subprocess.run(
        [sys.executable, "-c", SETUP], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    port = free_port()
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "smsportal.wsgi", "-w", "1"),
            *("--worker-class", "gthread", "--threads", "2", "--keep-alive", "5"),
            *("-b", f"127.0.0.1:{port}"),
        ],
        env=env,
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    results = {}
    try:
        session = requests.Session()
        for _ in range(50):
            try:
                login_page = session.get(f"{base}/auth/login/", timeout=10)
                break
            except requests.RequestException:
                time.sleep(0.2)
        token = session.cookies["csrftoken"]
        session.post(
            f"{base}/auth/login/",
            data={"username": "bench", "password": "bench-pass-123", "csrfmiddlewaretoken": token},
            headers={"Referer": login_page.url},
        )
        token = session.cookies["csrftoken"]  # rotated at log-in
        headers = {"HX-Request": "true", "X-CSRFToken": token, "Referer": f"{base}/"}
        for name, text in TEXTS.items():
            data = {
                "account": account_id,
                "recipients": "+96550000001\n+96550000002",
                "text": text,
                "action": "preview",
            }
            # Interleaved with the same request for an empty text (the request's floor: the
            # same form, recipients and page, no text to count), so both see the same load.
            timings, empty_timings = [], []
            empty = {**data, "text": ""}
            for i in range(args.requests + 20):
                data["text"] = keystroke(text, i)
                for payload, into in ((data, timings), (empty, empty_timings)):
                    start = time.perf_counter()
                    response = session.post(
                        f"{base}/messages/compose/", data=payload, headers=headers
                    )
                    elapsed = (time.perf_counter() - start) * 1000
                    response.raise_for_status()
                    if i >= 20:  # warm-up excluded
                        into.append(elapsed)
                    if payload is data:
                        size = len(response.content)
                        kept_alive = response.headers.get("Connection", "") != "close"
                        assert b"preview-parts" in response.content, response.text[:300]
            static_timings = []
            for i in range(args.requests + 20):
                start = time.perf_counter()
                session.get(f"{base}/static/favicon.svg").raise_for_status()
                if i >= 20:
                    static_timings.append((time.perf_counter() - start) * 1000)
            from smsportal.sms.encoding import analyse

            engine, floor = per_call_ms(analyse, text), per_call_ms(set_based_floor, text)
            results[name] = {
                "chars": len(text),
                "median_ms": round(statistics.median(timings), 2),
                "p95_ms": round(percentile(timings, 0.95), 2),
                "analyse_ms": round(engine, 4),
                "set_based_floor_ms": round(floor, 4),
                "analyse_to_floor": round(engine / floor, 2),
                "empty_text_median_ms": round(statistics.median(empty_timings), 2),
                "text_work_ms": round(
                    statistics.median(timings) - statistics.median(empty_timings), 2
                ),
                "http_floor_static_file_ms": round(statistics.median(static_timings), 2),
                "response_bytes": size,
                "keep_alive": kept_alive,
            }
    finally:
        server.terminate()
        server.wait(timeout=20)
    server_times = json.loads(
        subprocess.run(
            [sys.executable, "-c", IN_PROCESS, account_id, str(args.requests)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
            check=True,
        ).stdout
    )
    for name, figures in server_times.items():
        results[name].update(figures)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
