from __future__ import annotations

import pytest

from smsportal.departments.models import Department
from smsportal.messaging.sending import ResolvedRecipients, prepare, send
from smsportal.quotas.models import Quota


@pytest.fixture
def sales(db):
    return Department.objects.create(name="Sales")


@pytest.fixture
def support(db):
    return Department.objects.create(name="Support")


def phones(n: int) -> list[str]:
    return [f"+9655{i:07d}" for i in range(1, n + 1)]


def send_to(account, department, n: int, body: str = "Hello", **kwargs):
    """A send of `n` one-part messages through the one send path, counted for `department`."""
    draft = prepare(
        account=account,
        body=body,
        recipients=ResolvedRecipients(phones=phones(n)),
        department=department,
        **kwargs,
    )
    return send(draft)


def quota(department, account=None, **limits) -> Quota:
    return Quota.objects.create(department=department, account=account, **limits)
