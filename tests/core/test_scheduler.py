from __future__ import annotations

import pytest
from django.core.management import call_command
from django_tasks import default_task_backend

pytestmark = pytest.mark.django_db


def test_the_scheduler_enqueues_every_periodic_task(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    default_task_backend.clear()

    call_command("scheduler", "--once")

    enqueued = {result.task.module_path for result in default_task_backend.results}
    assert enqueued == {path for path, _seconds in settings.PERIODIC_TASKS}
    default_task_backend.clear()
