"""What of the automatic replies a person may see: those in the threads they may see (the
inbox's rule, messaging/scope.py), so another department's number and its reply stay theirs."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from smsportal.departments.scope import sees_everything
from smsportal.messaging.scope import conversations_of

from .models import AutoReply


def replies_of(request_or_user) -> QuerySet[AutoReply]:
    """A reply is sent as its thread's department, which a thread keeps once it has one: the
    message a row links to is then one the person may open too."""
    if sees_everything(request_or_user):
        return AutoReply.objects.all()
    return AutoReply.objects.filter(
        Exists(
            conversations_of(request_or_user).filter(
                account_id=OuterRef("account_id"), phone=OuterRef("phone")
            )
        )
    )
