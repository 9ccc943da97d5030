"""Copies of lists kept at a provider are their lists' department's: a person sees, sends to,
deletes and replaces only copies of lists their departments may see (a superuser: all), two
departments' lists of the same name keep a copy each, and the opt-out check before a send reads
the list whose copy is sent. A copy the portal did not make is a superuser's alone."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from smsportal.contacts.models import Contact, ContactList, OptOut, RemoteListPush
from smsportal.contacts.remote import remote_name, run_push
from smsportal.core.roles import OPERATOR
from smsportal.departments.models import Department
from smsportal.messaging.models import Message
from smsportal.messaging.sending import SendRefused, send_to_remote_list
from smsportal.providers.backends.base import ProviderError
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _department(name: str, user: str, phone: str) -> dict:
    department = Department.objects.create(name=name)
    person = UserFactory(username=user)
    person.groups.add(Group.objects.get(name=OPERATOR))
    department.members.add(person)
    contact_list = ContactList.objects.create(name="Customers", department=department)
    contact = Contact.objects.create(phone=phone, name=f"{name} contact", department=department)
    contact_list.add([contact.pk])
    return {"department": department, "user": person, "list": contact_list, "phone": phone}


@pytest.fixture
def two(account, script):
    """Alpha (alice) and Bravo (bob), each with a list named "Customers", and one account
    that keeps lists."""
    script.remote = {}
    return {
        "alpha": _department("Alpha", "alice", "+96550000111"),
        "bravo": _department("Bravo", "bob", "+96550000222"),
        "account": account,
    }


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.fixture
def push_as(client, django_capture_on_commit_callbacks):
    """Copy a list through its page as `person`, the copy run at once (as the worker would)."""

    def push(person, contact_list, account) -> RemoteListPush:
        client.force_login(person)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"/contacts/lists/{contact_list.pk}/push/", {"account": account.pk}
            )
        assert response.status_code == 302
        client.get(response.url)  # the page that shows (and so clears) "Copying … to …"
        return contact_list.pushes.latest("started_at")

    return push


def _send(client, account, name: str, text: str, **extra):
    return client.post(
        f"/messages/remote-lists/{account.pk}/send/", {"name": name, "text": text, **extra}
    )


def test_the_page_shows_only_copies_of_lists_the_person_may_see(
    client, two, script, superuser, push_as
):
    bravo, account = two["bravo"], two["account"]
    copy = push_as(bravo["user"], bravo["list"], account)
    script.remote["Made at the provider"] = ["+96550000999"]

    client.force_login(two["alpha"]["user"])
    page = client.get(f"/contacts/remote/{account.pk}/").content.decode()
    assert copy.remote_name not in page
    assert "Made at the provider" not in page

    client.force_login(bravo["user"])
    page = client.get(f"/contacts/remote/{account.pk}/").content.decode()
    assert f"<code>{copy.remote_name}</code>" in page
    assert "Made at the provider" not in page

    client.force_login(superuser)
    page = client.get(f"/contacts/remote/{account.pk}/").content.decode()
    assert f"<code>{copy.remote_name}</code>" in page
    assert "<code>Made at the provider</code>" in page
    assert "Not copied by the portal" in page


def test_a_person_cannot_send_to_another_departments_copy(client, two, script, push_as):
    bravo, account = two["bravo"], two["account"]
    copy = push_as(bravo["user"], bravo["list"], account)
    calls = len(script.calls)

    client.force_login(two["alpha"]["user"])
    response = _send(
        client,
        account,
        copy.remote_name,
        "Alpha's offer",
        department=two["alpha"]["department"].pk,
    )
    assert response.status_code == 302
    assert response.url == f"/contacts/remote/{account.pk}/"
    assert script.calls[calls:] == []
    assert not Message.objects.filter(body="Alpha's offer").exists()
    shown = [str(m) for m in response.wsgi_request._messages]
    assert shown == [f"{account} keeps no list “{copy.remote_name}” of your departments."]


def test_a_person_cannot_delete_another_departments_copy_nor_one_the_portal_did_not_make(
    client, two, script, superuser, push_as
):
    bravo, account = two["bravo"], two["account"]
    copy = push_as(bravo["user"], bravo["list"], account)
    script.remote["Made at the provider"] = ["+96550000999"]

    client.force_login(two["alpha"]["user"])
    for name in (copy.remote_name, "Made at the provider"):
        client.post(f"/contacts/remote/{account.pk}/delete/", {"name": name})
    client.force_login(bravo["user"])
    client.post(f"/contacts/remote/{account.pk}/delete/", {"name": "Made at the provider"})
    assert set(script.remote) == {copy.remote_name, "Made at the provider"}

    client.force_login(superuser)
    client.post(f"/contacts/remote/{account.pk}/delete/", {"name": "Made at the provider"})
    client.force_login(bravo["user"])
    client.post(f"/contacts/remote/{account.pk}/delete/", {"name": copy.remote_name})
    assert script.remote == {}


def test_same_named_lists_of_two_departments_keep_a_copy_each(client, two, script, push_as):
    alpha, bravo, account = two["alpha"], two["bravo"], two["account"]
    theirs = push_as(bravo["user"], bravo["list"], account)
    mine = push_as(alpha["user"], alpha["list"], account)

    assert theirs.remote_name != mine.remote_name
    assert script.remote == {
        theirs.remote_name: ["+96550000222"],
        mine.remote_name: ["+96550000111"],
    }
    client.force_login(bravo["user"])
    calls = len(script.calls)
    _send(client, account, theirs.remote_name, "Bravo news")
    assert script.calls[calls:] == [["+96550000222"]]


def test_a_copy_is_named_after_its_list_and_its_number():
    contact_list = ContactList(pk=12, name="Staff & friends")
    assert remote_name(contact_list) == "Staff - friends-12"
    contact_list.name = "x" * 80
    assert remote_name(contact_list) == "x" * 47 + "-12"
    assert len(remote_name(contact_list)) == 50
    contact_list.name = "&&"
    assert remote_name(contact_list) == "list-12"


def test_a_push_never_replaces_another_lists_copy(two, script):
    """A name an earlier version gave (a list's name alone) may be the one another list's copy
    now takes: the push refuses rather than delete the other department's copy."""
    alpha, bravo, account = two["alpha"], two["bravo"], two["account"]
    taken = remote_name(bravo["list"])
    script.remote[taken] = ["+96550000111"]
    RemoteListPush.objects.create(
        contact_list=alpha["list"], account=account, remote_name=taken, status="done", pushed=1
    )
    with pytest.raises(ProviderError, match="holds another list's copy"):
        bravo["list"].push_to(account, bravo["user"])
    assert script.remote == {taken: ["+96550000111"]}


def test_a_push_never_replaces_a_list_the_portal_did_not_make(two, script):
    bravo, account = two["bravo"], two["account"]
    name = remote_name(bravo["list"])
    script.remote[name] = ["+96550000999"]
    with pytest.raises(ProviderError, match="the portal did not make"):
        bravo["list"].push_to(account, bravo["user"])
    assert script.remote == {name: ["+96550000999"]}
    assert not RemoteListPush.objects.exists()  # a refused push claims no name

    # A copy this list made before is replaced, as ever.
    RemoteListPush.objects.create(
        contact_list=bravo["list"], account=account, remote_name=name, status="done"
    )
    again = run_push(bravo["list"].push_to(account, bravo["user"]))
    assert again.status == "done"
    assert script.remote == {name: ["+96550000222"]}


def test_the_opt_out_check_reads_the_list_whose_copy_is_sent(client, two, script, push_as):
    """Bob's member opted out after his copy was made; Alice's same-named list was copied
    since. Bob's send is refused for his own list's opt-out, whatever Alice's copy holds."""
    alpha, bravo, account = two["alpha"], two["bravo"], two["account"]
    theirs = push_as(bravo["user"], bravo["list"], account)
    OptOut.objects.create(phone=bravo["phone"])
    RemoteListPush.objects.filter(pk=theirs.pk).update(
        started_at=theirs.started_at.replace(year=theirs.started_at.year - 1)
    )
    push_as(alpha["user"], alpha["list"], account)

    calls = len(script.calls)
    with pytest.raises(ProviderError, match="1 member of “Customers” opted out"):
        send_to_remote_list(
            account, theirs.remote_name, "Bravo news", bravo["user"], bravo["department"]
        )
    assert script.calls[calls:] == []


def test_a_copy_is_the_latest_push_under_its_name(two, script):
    """Two lists once copied under one name (before names carried the list's number): the
    provider holds the latest push's members, so that push says whose copy it is, even when it
    failed: an earlier, finished copy of another list no longer describes it."""
    alpha, bravo, account = two["alpha"], two["bravo"], two["account"]
    script.remote["Customers"] = ["+96550000222"]
    RemoteListPush.objects.create(
        contact_list=alpha["list"], account=account, remote_name="Customers", status="done"
    )
    RemoteListPush.objects.create(
        contact_list=bravo["list"], account=account, remote_name="Customers", status="failed"
    )
    with pytest.raises(SendRefused, match="keeps no list “Customers” of your departments"):
        send_to_remote_list(account, "Customers", "Hi", alpha["user"], alpha["department"])
    with pytest.raises(ProviderError, match=r"The copy of “Customers” to “Customers” at .* failed"):
        send_to_remote_list(account, "Customers", "Hi", bravo["user"], bravo["department"])
    assert script.calls == []


def test_a_shared_lists_copy_is_sent_to_by_everyone_and_deleted_by_its_own_department(
    client, two, script, push_as
):
    alpha, bravo, account = two["alpha"], two["bravo"], two["account"]
    ContactList.objects.filter(pk=bravo["list"].pk).update(shared=True)
    copy = push_as(bravo["user"], bravo["list"], account)

    client.force_login(alpha["user"])
    page = client.get(f"/contacts/remote/{account.pk}/").content.decode()
    assert f"<code>{copy.remote_name}</code>" in page
    assert f"Delete {copy.remote_name}" not in page
    calls = len(script.calls)
    _send(client, account, copy.remote_name, "To everyone shared")
    assert script.calls[calls:] == [["+96550000222"]]
    client.post(f"/contacts/remote/{account.pk}/delete/", {"name": copy.remote_name})
    assert copy.remote_name in script.remote


def test_a_send_for_one_department_goes_only_to_its_own_lists_copies(client, two, script, push_as):
    """Alice is in both departments: a send for Alpha may not go to Bravo's copy."""
    alpha, bravo, account = two["alpha"], two["bravo"], two["account"]
    copy = push_as(bravo["user"], bravo["list"], account)
    bravo["department"].members.add(alpha["user"])
    with pytest.raises(SendRefused, match="is a list of Bravo, not of Alpha"):
        send_to_remote_list(account, copy.remote_name, "Hi", alpha["user"], alpha["department"])
    send_to_remote_list(account, copy.remote_name, "Hi", alpha["user"], bravo["department"])
    assert script.calls[-1] == ["+96550000222"]
