"""Lists kept at a provider (KalaSMS): a portal list copied there to be sent to with `sendbulk`,
with the copy recorded, and its progress shown while members are added one request each. The
send itself is messaging's (`messaging.sending.send_to_remote_list`)."""

from __future__ import annotations

import re

from django.utils import timezone

from smsportal.providers.backends.base import ProviderError

from .models import Contact, ContactList, OptOut, RemoteListPush

PROGRESS_EVERY = 50  # members between progress writes
_UNSAFE = re.compile(r"[^\w .\-]+")


def remote_name(contact_list: ContactList) -> str:
    """The list's name as KalaSMS takes it: letters, digits, spaces, dots and dashes, 50 at most."""
    return _UNSAFE.sub("-", contact_list.name).strip(" -")[:50] or f"list-{contact_list.pk}"


class RemoteListStale(ProviderError):
    """The portal will not send to a remote list that may hold numbers which opted out."""


def sendable_members(contact_list: ContactList):
    """The members a copy takes: everyone on the list but the numbers that opted out."""
    return Contact.objects.filter(memberships__contact_list=contact_list).exclude(
        phone__in=OptOut.objects.values("phone")
    )


def run_push(push: RemoteListPush) -> RemoteListPush:
    """Create the list at the provider afresh (an earlier copy is deleted first: KalaSMS cannot
    take one number off a list, and numbers may have opted out since), then add each member
    who has not opted out. A provider error stops the push and is shown with how far it got."""
    backend = push.account.backend
    try:
        if push.remote_name in backend.remote_lists():
            backend.delete_remote_list(push.remote_name)
        backend.create_remote_list(push.remote_name)
        done = 0
        phones = (
            sendable_members(push.contact_list)
            .order_by("id")
            .values_list("phone", flat=True)
            .iterator(chunk_size=5_000)
        )
        for phone in phones:
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


def check_no_new_opt_outs(account, name: str) -> RemoteListPush:
    """The portal's latest copy of the list `name` at `account`, if it is safe to send to.

    Refuses, saying why, to send to a remote list that may hold a number which opted out: one
    the portal did not copy (it cannot know who is on it), or one with members who opted out
    after the copy was made. Copying the list again leaves them out."""
    push = (
        RemoteListPush.objects.filter(
            account=account, remote_name=name, status=RemoteListPush.Status.DONE
        )
        .select_related("contact_list")
        .order_by("-started_at")
        .first()
    )
    if push is None:
        raise RemoteListStale(
            f"The list “{name}” at {account} was not copied by the portal, so the portal "
            "cannot check it against the opt-outs. Copy a portal list to it instead."
        )
    members = Contact.objects.filter(memberships__contact_list=push.contact_list)
    since = OptOut.objects.filter(
        created_at__gte=push.started_at, phone__in=members.values("phone")
    ).count()
    if since:
        who = "1 member" if since == 1 else f"{since:,} members"
        raise RemoteListStale(
            f"{who} of “{push.contact_list}” opted out after it was copied to {account} "
            f"on {timezone.localtime(push.started_at):%Y-%m-%d %H:%M}, and the copy there still "
            "holds them. Copy the list again (opted-out numbers are left out), then send."
        )
    return push
