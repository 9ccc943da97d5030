"""What of messaging a person (or an API key) may see and use: their departments' messages and
conversations (Department.objects.of). Every page, fragment, export and API view starts from
these querysets, so an id of another department's row is a 404, never a leak.

A row without a department is the whole organisation's: a thread of a number that wrote first
(everyone may answer it; the first reply gives it to the replier's department, see
views/conversations.py) and the automatic replies sent in such a thread."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from smsportal.core.prepared import Prepared
from smsportal.departments.models import Department
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


# The message page and its live part, polled every second while a send runs, read the message
# with what the page shows beside it. The API's note on a message sent through it ("via API
# (key)") comes joined rather than as a query of its own (api sits above messaging: by name).
PAGE_RELATED = ("account", "created_by", "department", "api_origin")


def _any_message(pk):
    return Message.objects.select_related(*PAGE_RELATED).filter(pk=pk)


def _members_message(pk, user_id):
    """`visible`'s rule in one query: the message if it is of no department or of one of the
    user's (the departments asked in a subquery rather than read first as a list of ids)."""
    theirs = Department.objects.filter(members=user_id).values("pk")
    return _any_message(pk).filter(Q(department__isnull=True) | Q(department__in=theirs))


# Compiled once per connection (core/prepared.py): with its scope by department the ORM's
# compilation of this query was about a quarter of a poll.
_page_message_of_anyone = Prepared(_any_message, int)
_page_message_of_member = Prepared(_members_message, int, int)


def page_message(request, pk: int) -> Message | None:
    """Message `pk` with what its page shows (PAGE_RELATED), if the request's user may see it
    (the rule of `messages_of`); None otherwise, as for a message that does not exist."""
    if getattr(request, "auth", None) is not None:  # through an API key: the key's department
        return messages_of(request).select_related(*PAGE_RELATED).filter(pk=pk).first()
    if sees_everything(request):
        found = _page_message_of_anyone(pk)
    elif request.user.is_authenticated:
        found = _page_message_of_member(pk, request.user.pk)
    else:
        found = []
    return found[0] if found else None
