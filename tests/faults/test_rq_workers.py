"""Two RQ workers (Redis) share one send: every recipient is sent exactly once."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from django.db import connection
from django.db.models import Count

from smsportal.messaging.models import Message
from smsportal.messaging.sending import ResolvedRecipients
from tests.faults.conftest import ROOT, wait_for, worker_env
from tests.support.postgres import free_port
from tests.support.sending import create_message

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which("redis-server"), reason="redis-server is not installed"),
]

RECIPIENTS = 3_000


@pytest.fixture
def redis_url(tmp_path):
    port = free_port()
    server = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_for(
            lambda: (
                subprocess.run(
                    ["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True
                ).stdout.strip()
                == "PONG"
            ),
            timeout=10,
        )
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.kill()
        server.wait(timeout=10)


def test_two_rq_workers_share_a_send_and_send_each_recipient_once(
    redis_url, sandbox, sandbox_account, settings
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    account = sandbox_account("kwtsms", options={"transport": "http"})
    sandbox.world.put_account("kwtsms", "demo-kwtsms", "demo-kwtsms-pass", credit=10**6)
    message = create_message(
        account=account,
        body="Shared by two workers",
        recipients=ResolvedRecipients(phones=[f"+9655{i:07d}" for i in range(RECIPIENTS)]),
    )
    connection.close()
    env = worker_env(TASKS_BACKEND="rq", REDIS_URL=redis_url)
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "rqworker",
                "--job-class",
                "django_tasks_rq.Job",
                "default",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    try:
        subprocess.run(
            [
                sys.executable,
                "manage.py",
                "shell",
                "-c",
                "from smsportal.messaging.tasks import dispatch_message; "
                f"dispatch_message.enqueue({message.pk})",
            ],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        wait_for(lambda: Message.objects.get(pk=message.pk).status == "done", timeout=120)
    finally:
        for worker in workers:
            worker.kill()
            worker.wait(timeout=10)
    assert dict(message.deliveries.values_list("status").annotate(n=Count("id"))) == {
        "submitted": RECIPIENTS
    }
    assert sandbox.world.duplicates() == {}
    assert len({r.recipient for r in sandbox.world.received}) == RECIPIENTS
