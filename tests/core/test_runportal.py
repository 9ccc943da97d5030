"""`make run`: the password comes last, processes wait for the sandbox, the log stays quiet."""

from __future__ import annotations

import io
import logging
import socket
import subprocess
import sys

import pytest
from django.core.management.base import CommandError

from smsportal.core.logfilters import QuietReads, QuietRoutineTasks
from smsportal.core.management.commands import runportal
from smsportal.core.management.commands.demo_data import create_demo_data


def _record(name: str, level: int, msg: str, *args) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, args, None)


@pytest.mark.django_db
def test_the_password_is_shown_once_and_last():
    command = runportal.Command(stdout=io.StringIO())
    lines, password = create_demo_data("admin")

    command._announce("http://127.0.0.1:8000/", lines, True, password)

    shown = [line for line in command.stdout._out.getvalue().splitlines() if line.strip("=")]
    assert password in shown[-1]
    assert "SMS Portal at http://127.0.0.1:8000/" in shown[-2]
    assert create_demo_data("admin")[1] is None  # a second run never shows it again


@pytest.mark.django_db
def test_a_later_run_says_how_to_reset_the_password():
    create_demo_data("admin")
    command = runportal.Command(stdout=io.StringIO())

    command._announce("http://127.0.0.1:8000/", [], True, None)

    assert "manage.py changepassword admin" in command.stdout._out.getvalue()


def test_it_waits_until_a_process_listens():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    port = server.getsockname()[1]
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)"], stdout=subprocess.DEVNULL
    )
    try:
        server.listen()
        runportal.Command()._wait_listening(child, "127.0.0.1", port)  # returns: it listens
    finally:
        child.kill()
        server.close()


def test_a_process_that_dies_before_listening_stops_the_start():
    child = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    child.wait()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]

    with pytest.raises(CommandError, match="stopped before it listened"):
        runportal.Command()._wait_listening(child, "127.0.0.1", free)


def test_successful_page_reads_stay_out_of_the_log_and_changes_stay_in():
    quiet = QuietReads()

    assert not quiet.filter(
        _record("django.server", logging.INFO, '"%s" %s %s', "GET / HTTP/1.1", "200", "5")
    )
    assert quiet.filter(
        _record("django.server", logging.INFO, '"%s" %s %s', "POST /m/ HTTP/1.1", "302", "0")
    )
    assert quiet.filter(
        _record("django.server", logging.WARNING, '"%s" %s %s', "GET /x HTTP/1.1", "404", "5")
    )


def test_routine_tasks_stay_out_of_the_log_and_sends_stay_in():
    quiet = QuietRoutineTasks()
    line = "Task id=%s path=%s state=%s"

    assert not quiet.filter(
        _record(
            "django_tasks",
            logging.INFO,
            line,
            "1",
            "smsportal.messaging.tasks.sweep_stuck_deliveries",
            "RUNNING",
        )
    )
    assert quiet.filter(
        _record(
            "django_tasks",
            logging.INFO,
            line,
            "2",
            "smsportal.messaging.tasks.send_batch",
            "RUNNING",
        )
    )
    assert quiet.filter(
        _record(
            "django_tasks",
            logging.ERROR,
            line,
            "3",
            "smsportal.messaging.tasks.sweep_stuck_deliveries",
            "FAILED",
        )
    )


def test_with_log_level_debug_every_line_shows():
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.DEBUG)
    try:
        assert QuietReads().filter(
            _record("django.server", logging.INFO, '"%s" %s %s', "GET / HTTP/1.1", "200", "5")
        )
    finally:
        root.setLevel(level)


def test_the_smpp_listener_starts_only_once_the_sandbox_listens(monkeypatch):
    steps = []

    class Child:
        def __init__(self, argv):
            self.args = ["python", "manage.py", *argv]

        def poll(self):
            return None

    def start(self, argv):
        steps.append(("start", argv[0]))
        child = Child(argv)
        self.children.append(child)
        return child

    def wait_listening(self, child, host, *ports):
        steps.append(("listening", child.args[2], ports))

    def watch(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(runportal.Command, "_start", start)
    monkeypatch.setattr(runportal.Command, "_wait_listening", wait_listening)
    monkeypatch.setattr(runportal.Command, "_wait_first_tasks", lambda self: None)
    monkeypatch.setattr(runportal.Command, "_announce", lambda self, *a: steps.append("announce"))
    monkeypatch.setattr(runportal.Command, "_watch", watch)
    monkeypatch.setattr(runportal.Command, "_stop_all", lambda self: None)

    runportal.Command().handle(addrport="127.0.0.1:8123", demo=False)

    assert steps[:2] == [("start", "sandbox"), ("listening", "sandbox", (8001, 2525, 2775))]
    assert steps.index(("start", "smpp_listen")) > 1
    assert steps[-2:] == [("listening", "runserver", (8123,)), "announce"]
