"""Lists kept at a provider (KalaSMS): a portal list copied there to be sent to with `sendbulk`,
with the copy recorded, and its progress shown while members are added one request each. The
send itself is messaging's (`messaging.sending.send_to_remote_list`).

A copy is its list's department's, as the list is: the person sees, sends to and deletes only
copies of lists their departments may see (deleting, like copying, only their own lists';
`copies_seen_by`, `copy_sent_by`, `may_delete`). A list at the provider the portal did
not make has no department to go by and cannot be checked against the opt-outs: it is shown to
superusers alone, who may delete it; nobody sends to it (docs/departments.md)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.utils import timezone
from django.utils.translation import gettext, ngettext

from smsportal.departments.scope import sees_everything
from smsportal.providers.backends.base import ProviderError

from . import scope
from .models import Contact, ContactList, OptOut, RemoteListPush

PROGRESS_EVERY = 50  # members between progress writes
_UNSAFE = re.compile(r"[^\w .\-]+")
_LONGEST = 50  # KalaSMS's longest list name


def remote_name(contact_list: ContactList) -> str:
    """The list's name as KalaSMS takes it (letters, digits, spaces, dots and dashes, 50 at
    most), ending in the list's number: "Staff & friends" (list 12) is "Staff - friends-12".

    The number makes the name this list's alone. A name is the provider's only key and a push
    replaces what is under it, yet list names are not unique across the portal: each department
    names its lists freely, a renamed list frees its name for another, and "A&B" and "A-B" read
    the same once made safe. Under the list's name alone, one department's copy would replace
    another's, whose next send would go to the first one's members. Refusing a push whose name
    is taken would instead tell a department the names of another's lists and leave it to guess
    a free one, and two pushes at once could both find the name free."""
    suffix = f"-{contact_list.pk}"
    base = _UNSAFE.sub("-", contact_list.name).strip(" -")[: _LONGEST - len(suffix)]
    return (base.rstrip(" -") or "list") + suffix


class RemoteListStale(ProviderError):
    """The portal will not send to a remote list that may hold numbers which opted out."""


class RemoteNameTaken(ProviderError):
    """The name a list would be copied under holds a list this one did not copy there."""


def sendable_members(contact_list: ContactList):
    """The members a copy takes: everyone on the list but the numbers that opted out."""
    return Contact.objects.filter(memberships__contact_list=contact_list).exclude(
        phone__in=OptOut.objects.values("phone")
    )


# --- whose copy is it ---------------------------------------------------------------------------


def _pushes_under(account, names: Iterable[str]):
    # Latest first: every push deletes what was under its name before adding its members, so
    # the latest push under a name (finished or not) made what the provider holds there.
    return (
        RemoteListPush.objects.filter(account=account, remote_name__in=list(names))
        .select_related("contact_list__department")
        .order_by("-started_at", "-pk")
    )


def copies_at(account, names: Iterable[str]) -> dict[str, RemoteListPush]:
    """Of the lists `account` holds (`names`), those the portal made: name → the push that made
    what is there now. A name missing from the answer the portal did not make."""
    copies: dict[str, RemoteListPush] = {}
    for push in _pushes_under(account, names):
        copies.setdefault(push.remote_name, push)
    return copies


def copy_at(account, name: str) -> RemoteListPush | None:
    return _pushes_under(account, [name]).first()


def copies_seen_by(
    request_or_user, account, names: Iterable[str]
) -> dict[str, RemoteListPush | None]:
    """Of `names` at `account`, those the person may see, each with the push that made it (None:
    a list the portal did not make, seen by superusers alone), in the provider's order."""
    names = list(names)
    copies = copies_at(account, names)
    if sees_everything(request_or_user):
        return {name: copies.get(name) for name in names}
    seen = set(
        scope.lists_of(request_or_user)
        .filter(pk__in={push.contact_list_id for push in copies.values()})
        .values_list("pk", flat=True)
    )
    return {
        name: copies[name]
        for name in names
        if name in copies and copies[name].contact_list_id in seen
    }


def not_yours(account, name: str) -> str:
    """The answer for a copy the person may not use: the same whether it is another
    department's, one the portal did not make, or none at all, so nothing of it shows."""
    return gettext("%(account)s keeps no list “%(list)s” of your departments.") % {
        "account": account,
        "list": name,
    }


def copy_sent_by(user, account, name: str) -> RemoteListPush | None:
    """The push that made the list `name` at `account`, if `user` may send to it: a copy of a
    list they may see (their departments', a shared one, one of no department). None: a list
    the portal did not make (the opt-out check refuses it). Raises LookupError, saying so in
    `not_yours`' words, for another department's copy. Without a person (a send of the portal's
    own) or for a superuser, any."""
    push = copy_at(account, name)
    if user is None or sees_everything(user):
        return push
    if push is None or not scope.lists_of(user).filter(pk=push.contact_list_id).exists():
        raise LookupError(not_yours(account, name))
    return push


def may_delete(request_or_user, push: RemoteListPush | None, own_list_ids: set[int]) -> bool:
    """A copy is deleted by its list's own department (who alone copy it), any by a superuser."""
    if sees_everything(request_or_user):
        return True
    return push is not None and push.contact_list_id in own_list_ids


def own_list_ids(request_or_user, copies: Iterable[RemoteListPush | None]) -> set[int]:
    ids = {push.contact_list_id for push in copies if push is not None}
    return set(scope.own_lists(request_or_user).filter(pk__in=ids).values_list("pk", flat=True))


def check_name_free(contact_list: ContactList, account, name: str) -> None:
    """Refuse (RemoteNameTaken, a ProviderError) to copy `contact_list` under `name` when the
    provider holds there a list this one did not copy: another portal list's copy (a name from
    before names carried the list's number), or one the portal did not make at all (it holds
    numbers the portal knows nothing of, which only a superuser may act on).

    Asked before the push is recorded, so a refused push leaves no record claiming the name."""
    before = (
        RemoteListPush.objects.filter(account=account, remote_name=name)
        .order_by("-started_at", "-pk")
        .values_list("contact_list_id", flat=True)
        .first()
    )
    if before is not None and before != contact_list.pk:
        raise RemoteNameTaken(
            gettext(
                "“%(list)s” at %(account)s holds another list's copy, so this list is not "
                "copied over it. Rename this list, then copy it."
            )
            % {"list": name, "account": account}
        )
    if before is None and name in account.backend.remote_lists():
        raise RemoteNameTaken(
            gettext(
                "%(account)s already keeps a list “%(list)s” the portal did not make, so this "
                "list is not copied over it. Ask a superuser to delete it there, or rename "
                "this list."
            )
            % {"list": name, "account": account}
        )


def run_push(push: RemoteListPush) -> RemoteListPush:
    """Create the list at the provider afresh (an earlier copy of this list is deleted first:
    KalaSMS cannot take one number off a list, and numbers may have opted out since), then add
    each member who has not opted out. A provider error stops the push and is shown with how
    far it got. Whose the name is was checked when the push was recorded (`check_name_free`)."""
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


def check_no_new_opt_outs(account, name: str, push: RemoteListPush | None) -> RemoteListPush:
    """`push`, the push that made the list `name` at `account` (`copy_at`), if that copy is safe
    to send to: its list's members are checked, whatever other list was copied under the name.

    Refuses, saying why, to send to a remote list that may hold a number which opted out: one
    the portal did not copy (it cannot know who is on it), one whose copy did not finish (it
    holds part of the list, or of what was there before), or one made before a number opted
    out: a member of the list, or any number, since one taken off the list after the copy is
    still in it. Copying the list again leaves them out."""
    if push is None:
        raise RemoteListStale(
            f"The list “{name}” at {account} was not copied by the portal, so the portal "
            "cannot check it against the opt-outs. Copy a portal list to it instead."
        )
    names = {"list": name, "account": account, "source": push.contact_list}
    if push.status == RemoteListPush.Status.RUNNING:
        raise RemoteListStale(
            gettext(
                "“%(list)s” at %(account)s is still being copied from “%(source)s”. Send when "
                "the copy is done."
            )
            % names
        )
    if push.status == RemoteListPush.Status.FAILED:
        raise RemoteListStale(
            gettext(
                "The copy of “%(source)s” to “%(list)s” at %(account)s failed, so it holds part "
                "of the list. Copy the list again, then send."
            )
            % names
        )
    # Every number that opted out since the copy, not only the list's members of now: a member
    # taken off the list (or whose contact was deleted) after the copy is still in the copy at
    # the provider, and the portal keeps no record of who the copy took.
    since = OptOut.objects.filter(created_at__gte=push.started_at)
    members = Contact.objects.filter(memberships__contact_list=push.contact_list)
    on_list = since.filter(phone__in=members.values("phone")).count()
    when = {**names, "on": f"{timezone.localtime(push.started_at):%Y-%m-%d %H:%M}"}
    if on_list:
        raise RemoteListStale(
            ngettext(
                "%(count)s member of “%(source)s” opted out after it was copied to %(account)s "
                "on %(on)s, and the copy there still holds it. Copy the list again "
                "(opted-out numbers are left out), then send.",
                "%(count)s members of “%(source)s” opted out after it was copied to "
                "%(account)s on %(on)s, and the copy there still holds them. Copy the list "
                "again (opted-out numbers are left out), then send.",
                on_list,
            )
            % {**when, "count": f"{on_list:,}"}
        )
    if others := since.count():
        raise RemoteListStale(
            ngettext(
                "%(count)s number opted out after “%(source)s” was copied to %(account)s on "
                "%(on)s. It is not on the list now, but if it was then, the copy there still "
                "holds it. Copy the list again (it takes only today's members who have not "
                "opted out), then send.",
                "%(count)s numbers opted out after “%(source)s” was copied to %(account)s on "
                "%(on)s. None is on the list now, but any that were then are still in the copy "
                "there. Copy the list again (it takes only today's members who have not opted "
                "out), then send.",
                others,
            )
            % {**when, "count": f"{others:,}"}
        )
    return push
