"""Clients that send their request headers a byte at a time ("header trickle", slowloris),
against gunicorn as the README runs it: can they keep everyone else waiting?

    .venv/bin/python bench/slow_headers.py [--workers 2] [--threads 2] [--slow 4] [--seconds 20]

Starts gunicorn (gthread) on 127.0.0.1 with no database behind it (the request asked for is
`GET /api/v1/` with no key, answered 401 before any query), opens `--slow` connections that each
send one header byte a second and never finish, then times ordinary requests made meanwhile.
Prints JSON: how long the ordinary requests waited. With `--slow` at least workers × threads,
every thread is held by a trickling client (gunicorn's gthread worker reads the headers with a
blocking socket and no deadline) and ordinary requests wait until a trickler gives up; this is
why docs/deployment.md puts a buffering proxy with header and body timeouts in front.
"""

from __future__ import annotations

import argparse
import http.client
import json
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
from tests.support.postgres import free_port  # noqa: E402


def trickle(port: int, stop: threading.Event) -> None:
    """A client that sends a header byte a second and never ends its headers."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET /api/v1/ HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        while not stop.wait(1.0):
            try:
                sock.sendall(b"X")
            except OSError:
                return  # the server gave up on us


def ordinary(port: int, timeout: float) -> tuple[int, float]:
    """(status, seconds) of one ordinary request; status 0 when it got no answer in time."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/api/v1/")
        status = conn.getresponse().status
    except TimeoutError:
        status = 0
    finally:
        conn.close()
    return status, time.perf_counter() - started


def answered(port: int) -> bool:
    try:
        return ordinary(port, 5)[0] != 0
    except OSError:  # not listening yet
        return False


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--slow", type=int, default=4, help="trickling clients")
    parser.add_argument("--seconds", type=int, default=20, help="how long they trickle")
    parser.add_argument("--config", default="", help="a gunicorn config file to use")
    args = parser.parse_args()

    port = free_port()
    env = django_env("sqlite:////tmp/slow-headers-unused.sqlite3", SECURE_SSL_REDIRECT="false")
    command = [
        sys.executable, "-m", "gunicorn", "smsportal.wsgi",
        "-w", str(args.workers), "--worker-class", "gthread", "--threads", str(args.threads),
        "-b", f"127.0.0.1:{port}", "--log-level", "warning",
    ]  # fmt: skip
    if args.config:
        command[3:3] = ["-c", args.config]
    server = subprocess.Popen(command, env={**env, "LOG_LEVEL": "ERROR"}, cwd=ROOT)
    stop = threading.Event()
    try:
        ready = time.monotonic() + 120
        while not answered(port):
            if time.monotonic() > ready:
                raise SystemExit("gunicorn did not answer within 2 minutes")
            time.sleep(0.5)
        baseline = ordinary(port, 30)
        slow = [threading.Thread(target=trickle, args=(port, stop)) for _ in range(args.slow)]
        for client in slow:
            client.start()
        time.sleep(2)
        during = []
        deadline = time.monotonic() + args.seconds
        while time.monotonic() < deadline:
            during.append(ordinary(port, args.seconds))
            time.sleep(0.5)
        stop.set()
        for client in slow:
            client.join()
    finally:
        stop.set()
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:  # threads still held by a trickler
            server.kill()
            server.wait(timeout=10)
    waits = sorted(seconds for _, seconds in during)
    print(
        json.dumps(
            {
                "workers": args.workers,
                "threads": args.threads,
                "trickling_clients": args.slow,
                "trickle_seconds": args.seconds,
                "alone_ms": round(baseline[1] * 1000, 1),
                "ordinary_requests_meanwhile": len(during),
                "statuses": sorted({status for status, _ in during}),
                "unanswered": sum(1 for status, _ in during if status == 0),
                "longest_wait_s": round(waits[-1], 2) if waits else None,
                "median_wait_ms": round(waits[len(waits) // 2] * 1000, 1) if waits else None,
                "load_average": round(os.getloadavg()[0], 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
