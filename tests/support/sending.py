"""Tests create messages the one way the portal does: the send service's `prepare`, whose checks
all run, then `send`."""

from __future__ import annotations

from smsportal.messaging import sending
from smsportal.messaging.models import Message


def create_message(*, created_by=None, **kwargs) -> Message:
    """`sending.send(sending.prepare(...))`, with the Message's name for the user who sends;
    the message is the department "General"'s unless another is given (the conftest's users
    are in it)."""
    if "department" not in kwargs:
        from tests.conftest import general_department

        kwargs["department"] = general_department()
        if created_by is not None:
            kwargs["department"].members.add(created_by)
    return sending.send(sending.prepare(user=created_by, **kwargs))
