"""Lists kept at a provider (KalaSMS): a portal list copied there to be sent to with `sendbulk`,
with the copy recorded, and its progress shown while members are added one request each."""

from __future__ import annotations

import re

from django.db import transaction
from django.utils import timezone

from smsportal.providers.backends.base import ProviderError

from .models import ContactList, RemoteListPush

PROGRESS_EVERY = 50  # members between progress writes
_UNSAFE = re.compile(r"[^\w .\-]+")


def remote_name(contact_list: ContactList) -> str:
    """The list's name as KalaSMS takes it: letters, digits, spaces, dots and dashes, 50 at most."""
    return _UNSAFE.sub("-", contact_list.name).strip(" -")[:50] or f"list-{contact_list.pk}"


def start_push(contact_list: ContactList, account, user=None) -> RemoteListPush:
    if not account.backend.capabilities.remote_lists:
        raise ProviderError(f"{account.get_kind_display()} keeps no lists.")
    push = RemoteListPush.objects.create(
        contact_list=contact_list,
        account=account,
        remote_name=remote_name(contact_list),
        total=contact_list.members.count(),
        created_by=user,
    )
    from .tasks import push_list

    transaction.on_commit(lambda: push_list.enqueue(push.pk))
    return push


def run_push(push: RemoteListPush) -> RemoteListPush:
    """Create the list at the provider (again, if it exists: adding is what matters), then add
    each member. A provider error stops the push and is shown with how far it got."""
    backend = push.account.backend
    try:
        if push.remote_name not in backend.remote_lists():
            backend.create_remote_list(push.remote_name)
        done = 0
        for phone in push.contact_list.phones():
            backend.add_to_remote_list(push.remote_name, phone)
            done += 1
            if done % PROGRESS_EVERY == 0:
                RemoteListPush.objects.filter(pk=push.pk).update(pushed=done)
        RemoteListPush.objects.filter(pk=push.pk).update(
            pushed=done, status=RemoteListPush.Status.DONE, finished_at=timezone.now()
        )
    except ProviderError as exc:
        RemoteListPush.objects.filter(pk=push.pk).update(
            status=RemoteListPush.Status.FAILED, error=str(exc), finished_at=timezone.now()
        )
    push.refresh_from_db()
    return push


def send_to_remote_list(account, name: str, text: str, user=None):
    """Send `text` to a list kept at the provider (KalaSMS `sendbulk`): one request, one message
    id for the whole list. Recorded as a message with a single delivery addressed to the list,
    so its report is polled and shown like any other."""
    from smsportal.messaging.encoding import analyse
    from smsportal.messaging.models import Delivery, DeliveryEvent, Message
    from smsportal.messaging.status import DeliveryStatus
    from smsportal.providers.backends.base import InvalidContent, OutgoingMessage
    from smsportal.reports.stats import Transitions, day_of

    analysis = analyse(text)
    if not analysis.sendable:
        raise InvalidContent(analysis.problem)
    result = account.backend.send_to_remote_list(name, OutgoingMessage(text))
    (submitted,) = result.results
    now = timezone.now()
    with transaction.atomic():
        message = Message.objects.create(
            account=account,
            body=text,
            encoding=analysis.encoding,
            segments=analysis.segments,
            status=Message.Status.DONE,
            created_by=user,
            dispatched_at=now,
            completed_at=now,
        )
        delivery = Delivery.objects.create(
            message=message,
            account=account,
            phone=f"list:{name}"[:32],
            status=DeliveryStatus.SUBMITTED,
            provider_message_id=submitted.provider_message_id,
            segments=analysis.segments,
            submitted_at=now,
        )
        DeliveryEvent.objects.create(
            delivery=delivery,
            source=DeliveryEvent.Source.SUBMIT,
            from_status=DeliveryStatus.QUEUED,
            to_status=DeliveryStatus.SUBMITTED,
            raw={"provider_message_id": submitted.provider_message_id, "list": name},
        )
        moves = Transitions()
        moves.add(day_of(delivery.queued_at), account.pk, DeliveryStatus.SUBMITTED)
        moves.apply()
    return message
