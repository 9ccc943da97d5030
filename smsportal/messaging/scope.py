"""What of messaging a person (or an API key) may see and use: their departments' messages and
conversations (Department.objects.of). Every page, fragment, export and API view starts from
these querysets, so an id of another department's row is a 404, never a leak.

A row without a department is the whole organisation's: a thread of a number that wrote first
(everyone may answer it; the first reply gives it to the replier's department, see
views/conversations.py) and the automatic replies sent in such a thread."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from smsportal.departments.scope import departments_of, sees_everything, visible

from .models import Conversation, Message


def department_keys(request_or_user) -> list[int] | None:
    """The `DailyDeliveryStats.department_key`s a person may read: their departments' ids and 0
    (messages of no department), or None for everything (a superuser on the pages)."""
    if sees_everything(request_or_user):
        return None
    return [0, *departments_of(request_or_user).values_list("pk", flat=True)]


def deliveries_visible(rows: QuerySet, keys: list[int] | None) -> QuerySet:
    """Deliveries narrowed to the messages of `keys` (department_keys); None leaves them all."""
    if keys is None:
        return rows
    return rows.filter(Q(message__department__in=keys) | Q(message__department__isnull=True))


def messages_of(request_or_user) -> QuerySet[Message]:
    return visible(Message.objects.all(), request_or_user)


def conversations_of(request_or_user) -> QuerySet[Conversation]:
    return visible(Conversation.objects.all(), request_or_user)
