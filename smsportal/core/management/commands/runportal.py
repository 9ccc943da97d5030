"""Serve the portal with every process it needs, and stop them all together (`make run`)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import get_commands
from django.core.management.base import BaseCommand, CommandError

from .demo_data import create_demo_data, password_banner

SANDBOX_HOST = "127.0.0.1"
SANDBOX_PORTS = {"http": 8001, "smtp": 2525, "smpp": 2775}  # the demo accounts point at these

# (management command and its arguments) started once the sandbox answers, in this order. A
# command that does not exist in this build is left out, so the list can name every process the
# portal may need.
BACKGROUND = [
    ["worker", "--queue-name", "default"],
    ["scheduler"],
    ["smpp_listen"],
]

READY_TIMEOUT = 60.0  # seconds for the sandbox, then the web server, to start listening
FIRST_TASKS_TIMEOUT = 10.0  # seconds for the scheduler's first round before announcing anyway
DEMO_ADMIN = "admin"


class Command(BaseCommand):
    help = "Run the web server together with the sandbox, the task worker and the SMPP listener."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument(
            "--demo",
            action="store_true",
            help="create the demo data first (once); its report, and the administrator's "
            "password on the first run, are printed last, after the processes' start-up lines",
        )

    def handle(self, *args, addrport: str, demo: bool, **options):
        # SIGTERM (a supervisor, `kill`) stops everything just as Ctrl-C does, leaving no orphans.
        signal.signal(signal.SIGTERM, _interrupt)
        report, password = create_demo_data(DEMO_ADMIN) if demo else ([], None)
        host, port = _split(addrport)
        available = get_commands()
        self.children: list[subprocess.Popen] = []
        try:
            if "sandbox" in available:
                # The SMPP listener and the first balance refresh would only fail and retry
                # against a sandbox that is not listening yet: start it first, wait for it.
                sandbox = self._start(["sandbox", "--portal-url", f"http://{host}:{port}"])
                self._wait_listening(sandbox, SANDBOX_HOST, *SANDBOX_PORTS.values())
            for argv in BACKGROUND:
                if argv[0] in available:
                    self._start(argv)
            web = self._start(["runserver", addrport, "--noreload"])
            self._wait_listening(web, host, port)
            self._wait_first_tasks()
            self._announce(f"http://{host}:{port}/", report, demo, password)
            self._watch()
        except KeyboardInterrupt:
            pass
        finally:
            self._stop_all()

    def _start(self, argv: list[str]) -> subprocess.Popen:
        child = subprocess.Popen([sys.executable, "manage.py", *argv])
        self.children.append(child)
        return child

    def _wait_listening(self, child: subprocess.Popen, host: str, *ports: int) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        waiting = list(ports)
        while waiting:
            if child.poll() is not None:
                raise CommandError(
                    f"{_name(child)} stopped before it listened (exit {child.returncode}); "
                    f"is port {', '.join(map(str, waiting))} already in use?"
                )
            if time.monotonic() > deadline:
                raise CommandError(f"{_name(child)} did not listen on {waiting} in time.")
            if _listening(host, waiting[0]):
                waiting.pop(0)
            else:
                time.sleep(0.1)

    def _wait_first_tasks(self) -> None:
        """Let the scheduler's first round (balances, sweeper) finish, so that its lines come
        before the announcement rather than after it. Gives up quietly after a few seconds."""
        if "django_tasks_db" not in settings.TASKS["default"]["BACKEND"]:
            return
        from django_tasks_db.models import DBTaskResult

        deadline = time.monotonic() + FIRST_TASKS_TIMEOUT
        time.sleep(1)  # the scheduler enqueues its first round as it starts
        while time.monotonic() < deadline:
            if not DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).exists():
                return
            time.sleep(0.2)

    def _announce(self, url: str, report: list[str], demo: bool, password: str | None) -> None:
        """The lines a person needs, after every process's start-up noise: the password last."""
        time.sleep(0.3)  # let the children's last start-up lines reach the terminal first
        self.stdout.write("")
        for line in report:
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"SMS Portal at {url} — Ctrl-C stops it all."))
        if demo:
            for line in password_banner(DEMO_ADMIN, password):
                self.stdout.write(self.style.SUCCESS(line))
        self.stdout.flush()

    def _watch(self) -> None:
        while all(child.poll() is None for child in self.children):
            time.sleep(0.5)
        for child in self.children:
            if child.poll() not in (None, 0):
                self.stderr.write(f"{_name(child)} exited ({child.returncode})")

    def _stop_all(self) -> None:
        for child in self.children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for child in self.children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()


def _split(addrport: str) -> tuple[str, int]:
    host, _, port = addrport.rpartition(":")
    if not port.isdigit():
        host, port = addrport, "8000"  # runserver's own default, when only a host is given
    return host or "127.0.0.1", int(port)


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _name(child: subprocess.Popen) -> str:
    return " ".join(map(str, child.args[2:]))


def _interrupt(signum, frame):
    raise KeyboardInterrupt
