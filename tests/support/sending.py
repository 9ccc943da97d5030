"""Tests create messages the one way the portal does: the send service's `prepare`, whose checks
all run, then `send`."""

from __future__ import annotations

from smsportal.messaging import sending
from smsportal.messaging.models import Message


def create_message(*, created_by=None, **kwargs) -> Message:
    """`sending.send(sending.prepare(...))`, with the Message's name for the user who sends."""
    return sending.send(sending.prepare(user=created_by, **kwargs))
