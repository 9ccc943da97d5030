"""Lists kept at KalaSMS: a portal list copied there over the real protocol (the sandbox), shown,
sent to with sendbulk and deleted; accounts without remote lists are refused clearly."""

from __future__ import annotations

import pytest

from smsportal.contacts.models import RemoteListPush
from smsportal.messaging.models import Message
from smsportal.providers.backends.base import ProviderError
from tests.factories import ContactFactory, ContactListFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def kala(sandbox_account):
    return sandbox_account("kalasms", name="KalaSMS (sandbox)")


@pytest.fixture
def staff():
    contact_list = ContactListFactory(name="Staff & friends")
    contact_list.add([c.pk for c in ContactFactory.create_batch(60)])
    return contact_list


def test_a_list_is_copied_to_kalasms_with_every_member(
    operator_client, kala, staff, sandbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(f"/contacts/lists/{staff.pk}/push/", {"account": kala.pk})
    assert response.status_code == 302
    push = RemoteListPush.objects.get()
    assert (push.remote_name, push.status, push.pushed, push.total) == (
        f"Staff - friends-{staff.pk}",
        "done",
        60,
        60,
    )
    remote = sandbox.world.account("kalasms", "demo-kalasms").lists[push.remote_name]
    assert sorted(remote) == sorted(p.lstrip("+") for p in staff.phones())
    page = operator_client.get(f"/contacts/lists/{staff.pk}/").content.decode()
    assert "60 of 60" in page


def test_the_remote_lists_page_shows_sends_to_and_deletes_a_list(
    operator_client, manager_client, kala, staff, sandbox
):
    from smsportal.contacts.remote import run_push

    run_push(RemoteListPush.objects.create(contact_list=staff, account=kala, remote_name="Staff"))
    page = operator_client.get(f"/contacts/remote/{kala.pk}/").content.decode()
    assert "<code>Staff</code>" in page and "Staff &amp; friends" in page

    response = operator_client.post(
        f"/messages/remote-lists/{kala.pk}/send/", {"name": "Staff", "text": "Meeting at 3"}
    )
    message = Message.objects.get()
    assert response.url == message.get_absolute_url()
    delivery = message.deliveries.get()
    assert (delivery.phone, delivery.status) == ("list:Staff", "submitted")
    assert delivery.provider_message_id
    assert len([r for r in sandbox.world.received if r.text == "Meeting at 3"]) == 60

    manager_client.post(f"/contacts/remote/{kala.pk}/delete/", {"name": "Staff"})
    assert "Staff" not in sandbox.world.account("kalasms", "demo-kalasms").lists


def test_a_provider_error_during_a_push_is_shown_with_how_far_it_got(kala, staff, sandbox):
    from smsportal.contacts.remote import run_push

    sandbox.world.put_account("kalasms", "demo-kalasms", "wrong-password")
    push = run_push(
        RemoteListPush.objects.create(contact_list=staff, account=kala, remote_name="Staff")
    )
    assert push.status == "failed" and push.pushed == 0
    assert "password" in push.error.lower() or "refused" in push.error.lower()


def test_an_account_without_remote_lists_is_refused(account, staff):
    with pytest.raises(ProviderError, match="keeps no lists"):
        staff.push_to(account)


def test_a_lists_copy_is_named_in_the_readers_quotation_marks(operator_client, operator, kala):
    """«Staff» in Arabic, as every Arabic quote; the name isolated inside the marks."""
    from smsportal.core.models import Preference

    staff = ContactListFactory(name="Staff")
    RemoteListPush.objects.create(contact_list=staff, account=kala, remote_name="Staff")
    page = operator_client.get(f"/contacts/lists/{staff.pk}/").content.decode()
    assert "“<bdi>Staff</bdi>”" in page

    Preference.objects.update_or_create(user=operator, defaults={"language": "ar"})
    page = operator_client.get(f"/contacts/lists/{staff.pk}/").content.decode()
    assert "«<bdi>Staff</bdi>»" in page and "“<bdi>Staff</bdi>”" not in page
