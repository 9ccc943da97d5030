"""Serve the portal with every process it needs, and stop them all together (`make run`)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from django.core.management import get_commands
from django.core.management.base import BaseCommand

# (management command and its arguments) started beside the web server, in this order. A command
# that does not exist in this build is left out, so the list can name every process the portal
# may need.
BACKGROUND = [
    ["sandbox"],
    ["worker", "--queue-name", "default"],
    ["scheduler"],
    ["smpp_listen"],
]


class Command(BaseCommand):
    help = "Run the web server together with the sandbox, the task worker and the SMPP listener."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args, addrport: str, **options):
        # SIGTERM (a supervisor, `kill`) stops everything just as Ctrl-C does, leaving no orphans.
        signal.signal(signal.SIGTERM, _interrupt)
        available = get_commands()
        children: list[subprocess.Popen] = []
        for argv in BACKGROUND:
            if argv[0] in available:
                self.stdout.write(f"starting {' '.join(argv)}")
                children.append(subprocess.Popen([sys.executable, "manage.py", *argv]))
        web = subprocess.Popen([sys.executable, "manage.py", "runserver", addrport, "--noreload"])
        children.append(web)
        self.stdout.write(
            self.style.SUCCESS(f"SMS Portal at http://{addrport}/ — Ctrl-C stops it all")
        )
        try:
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
            failed = [c for c in children if c.poll() not in (None, 0)]
            for child in failed:
                self.stderr.write(
                    f"{' '.join(map(str, child.args[2:]))} exited ({child.returncode})"
                )
        except KeyboardInterrupt:
            pass
        finally:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 10
            for child in children:
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()


def _interrupt(signum, frame):
    raise KeyboardInterrupt
