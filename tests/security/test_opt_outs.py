"""Opt-outs are law on every path: checked when each delivery is dispatched (not only at
compose), for scheduled messages, retries and lists kept at KalaSMS; START lifts only what a
keyword made; only a Manager lifts an opt-out the person asked for or a Manager made."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from smsportal.contacts.models import OptOut, RemoteListPush
from smsportal.messaging import sending
from smsportal.messaging.inbound import receive
from smsportal.messaging.models import Delivery, Message
from smsportal.messaging.sending import ResolvedRecipients
from smsportal.messaging.tasks import dispatch_message
from smsportal.providers.backends.base import InboundSMS, SendResult, SubmitResult, SubmitStatus
from smsportal.sms.status import DeliveryStatus
from tests.factories import (
    ContactFactory,
    ContactListFactory,
    OptOutFactory,
    ProviderAccountFactory,
)
from tests.support.sending import create_message

pytestmark = pytest.mark.django_db

A, B, C = "+96550000001", "+96550000002", "+96550000003"


def send_now(account, phones, capture, **kwargs) -> Message:
    with capture(execute=True):
        message = create_message(
            account=account, body="Hello", recipients=ResolvedRecipients(phones=phones), **kwargs
        )
    message.refresh_from_db()
    return message


def opted_out_rows(message):
    return message.deliveries.filter(status=DeliveryStatus.SKIPPED, error_code="opted-out")


# --- checked at dispatch -------------------------------------------------------------------


def test_a_scheduled_message_skips_a_number_that_opted_out_after_it_was_scheduled(account, script):
    when = timezone.now() + timedelta(hours=1)
    message = create_message(
        account=account, body="Later", recipients=ResolvedRecipients(phones=[A, B]),
        scheduled_for=when,
    )  # fmt: skip
    OptOut.objects.create(phone=B, reason=OptOut.Reason.KEYWORD)

    dispatch_message.call(message.pk, when.isoformat())

    assert script.sent_to() == [A]
    skipped = opted_out_rows(message).get()
    assert (skipped.phone, skipped.error_text) == (B, "opted out")
    assert skipped.events.get().to_status == DeliveryStatus.SKIPPED
    message.refresh_from_db()
    assert message.status == Message.Status.DONE


@pytest.mark.django_db(transaction=True)
def test_a_number_that_opts_out_while_its_batch_runs_is_not_sent(
    account, script, settings, django_capture_on_commit_callbacks
):
    script.bulk_size = 1
    settings.SEND_CONCURRENCY = 1

    def stop_c_during_the_first_request(number, recipients):
        if number == 1:  # the fake runs in the batch's pool thread, on its own connection
            OptOut.objects.create(phone=C, reason=OptOut.Reason.KEYWORD)
            connection.close()

    script.behaviour = stop_c_during_the_first_request
    message = send_now(account, [A, B, C], django_capture_on_commit_callbacks)

    assert script.sent_to() == [A, B]
    assert opted_out_rows(message).get().phone == C


def test_retry_never_resends_to_a_number_that_opted_out(
    account, script, django_capture_on_commit_callbacks
):
    script.behaviour = lambda number, recipients: SendResult(
        [SubmitResult(r, SubmitStatus.FAILED, error_code="E", error_text="no") for r in recipients]
    )
    first = send_now(account, [A, B], django_capture_on_commit_callbacks)
    OptOut.objects.create(phone=A, reason=OptOut.Reason.MANUAL)
    script.behaviour = None
    script.calls.clear()

    with django_capture_on_commit_callbacks(execute=True):
        again = sending.retry(first, [DeliveryStatus.FAILED])

    assert script.sent_to() == [B]
    assert opted_out_rows(again).get().phone == A


def test_the_opt_out_check_is_a_few_queries_per_batch_not_one_per_recipient(
    account, script, django_capture_on_commit_callbacks
):
    OptOutFactory.create_batch(5)
    numbers = [f"+9655{i:07d}" for i in range(1000)]
    message = create_message(
        account=account, body="Hello", recipients=ResolvedRecipients(phones=numbers)
    )  # the send service's own opt-out check is before the dispatch this test counts
    with CaptureQueriesContext(connection) as queries:
        dispatch_message.call(message.pk)

    reading_opt_outs = [q for q in queries if "contacts_optout" in q["sql"]]
    # One batch of 1,000 in five requests of 200, claimed together: the claim reads the list
    # in its own statement, and the batch skips opted-out numbers before and after.
    assert len(reading_opt_outs) <= 3
    assert len(script.sent_to()) == 1000


def test_the_message_page_says_skipped_opted_out(
    operator_client, account, script, django_capture_on_commit_callbacks
):
    OptOut.objects.create(phone=B)
    message = create_message(
        account=account, body="Hi", recipients=ResolvedRecipients(phones=[A, B])
    )
    with django_capture_on_commit_callbacks(execute=True):
        dispatch_message.call(message.pk)

    page = operator_client.get(f"/messages/{message.pk}/?status=skipped").content.decode()
    assert B in page and "opted out" in page and A not in page
    export = b"".join(
        operator_client.get(f"/reports/export.csv?message={message.pk}").streaming_content
    ).decode()
    assert f"{B},skipped,,opted-out,opted out," in export


# --- keywords ------------------------------------------------------------------------------


def incoming(account, text, sender="96597119440"):
    return receive(account, InboundSMS(sender=sender, recipient="63633", text=text))


@pytest.mark.parametrize("sender", ["96597119440", "97119440", "+96597119440", "0096597119440"])
def test_stop_from_a_number_written_any_way_opts_out_its_e164_form(sender):
    account = ProviderAccountFactory(kind="smscentre")
    incoming(account, "STOP", sender=sender)
    assert OptOut.objects.get().phone == "+96597119440"


def test_start_lifts_only_an_opt_out_made_by_keyword():
    account = ProviderAccountFactory(kind="smscentre")
    phone = "+96597119440"
    incoming(account, "STOP", sender=phone)
    incoming(account, "START", sender=phone)
    assert not OptOut.objects.exists()

    OptOut.objects.create(phone=phone, reason=OptOut.Reason.MANUAL, note="asked by phone")
    incoming(account, "START", sender=phone)
    kept = OptOut.objects.get()
    assert (kept.reason, kept.note) == (OptOut.Reason.MANUAL, "asked by phone")

    OptOut.objects.all().update(reason=OptOut.Reason.IMPORT)
    incoming(account, "START", sender=phone)
    assert OptOut.objects.filter(reason=OptOut.Reason.IMPORT).exists()


# --- who may lift one ----------------------------------------------------------------------


def test_an_operator_may_not_lift_an_opt_out_made_by_keyword_or_by_a_manager(
    operator_client, manager, operator
):
    by_keyword = OptOut.objects.create(phone=A, reason=OptOut.Reason.KEYWORD)
    by_manager = OptOut.objects.create(phone=B, created_by=manager)
    by_operator = OptOut.objects.create(phone=C, created_by=operator)

    page = operator_client.get("/contacts/opt-outs/").content.decode()
    assert page.count("Remove</button>") == 1
    for optout in (by_keyword, by_manager):
        response = operator_client.post(f"/contacts/opt-outs/{optout.pk}/delete/", follow=True)
        assert "Only a Manager may remove" in response.content.decode()
    operator_client.post(f"/contacts/opt-outs/{by_operator.pk}/delete/")

    assert set(OptOut.objects.values_list("phone", flat=True)) == {A, B}


def test_a_manager_may_lift_any_opt_out(manager_client, manager):
    OptOut.objects.create(phone=A, reason=OptOut.Reason.KEYWORD)
    OptOut.objects.create(phone=B, created_by=manager)
    for optout in OptOut.objects.all():
        manager_client.post(f"/contacts/opt-outs/{optout.pk}/delete/")
    assert not OptOut.objects.exists()


# --- lists kept at KalaSMS ------------------------------------------------------------------


@pytest.fixture
def kala(sandbox_account):
    return sandbox_account("kalasms")


@pytest.fixture
def staff_list():
    contact_list = ContactListFactory(name="Staff")
    contacts = ContactFactory.create_batch(5)
    contact_list.add([c.pk for c in contacts])
    return contact_list, contacts


def test_a_list_copied_to_kalasms_leaves_opted_out_members_out(kala, staff_list, sandbox):
    from smsportal.contacts.remote import run_push

    contact_list, contacts = staff_list
    OptOut.objects.create(phone=contacts[0].phone)
    push = run_push(contact_list.push_to(kala))

    assert (push.status, push.pushed, push.total) == ("done", 4, 4)
    remote = sandbox.world.account("kalasms", "demo-kalasms").lists[push.remote_name]
    assert contacts[0].phone.lstrip("+") not in remote and len(remote) == 4


def test_sending_to_a_remote_list_refuses_when_a_member_opted_out_since_the_copy(
    kala, staff_list, sandbox
):
    from smsportal.contacts.remote import RemoteListStale, run_push
    from smsportal.messaging.sending import send_to_remote_list

    contact_list, contacts = staff_list
    push = RemoteListPush.objects.create(
        contact_list=contact_list, account=kala, remote_name="Staff"
    )
    run_push(push)
    OptOut.objects.create(phone=contacts[1].phone, reason=OptOut.Reason.KEYWORD)

    with pytest.raises(RemoteListStale, match="1 member of “Staff” opted out after it was copied"):
        send_to_remote_list(kala, "Staff", "Hello all")
    assert not [r for r in sandbox.world.received if r.text == "Hello all"]

    # Copied again, the list leaves the number out, and the send goes.
    run_push(RemoteListPush.objects.create(contact_list=contact_list, account=kala,
                                           remote_name="Staff"))  # fmt: skip
    send_to_remote_list(kala, "Staff", "Hello all")
    received = {r.recipient for r in sandbox.world.received if r.text == "Hello all"}
    assert received == {c.phone.lstrip("+") for c in contacts} - {contacts[1].phone.lstrip("+")}


def test_a_member_taken_off_the_list_after_the_copy_who_opts_out_is_not_sent_to(
    kala, staff_list, sandbox
):
    """The copy at the provider still holds a member taken off the list after it was made:
    their STOP refuses the send too, though they are no longer on the list."""
    from smsportal.contacts.remote import RemoteListStale, run_push
    from smsportal.messaging.sending import send_to_remote_list

    contact_list, contacts = staff_list
    push = run_push(contact_list.push_to(kala))
    contact_list.remove([contacts[2].pk])
    OptOut.objects.create(phone=contacts[2].phone, reason=OptOut.Reason.KEYWORD)

    with pytest.raises(RemoteListStale, match="1 number opted out after “Staff” was copied"):
        send_to_remote_list(kala, push.remote_name, "Hello all")
    assert not [r for r in sandbox.world.received if r.text == "Hello all"]

    # Copied again, the copy holds today's members only, and the send goes.
    again = run_push(contact_list.push_to(kala))
    send_to_remote_list(kala, again.remote_name, "Hello all")
    received = {r.recipient for r in sandbox.world.received if r.text == "Hello all"}
    assert received == {c.phone.lstrip("+") for c in contacts} - {contacts[2].phone.lstrip("+")}


def test_sending_to_a_remote_list_the_portal_did_not_copy_is_refused(kala, sandbox):
    from smsportal.contacts.remote import RemoteListStale
    from smsportal.messaging.sending import send_to_remote_list

    kala.backend.create_remote_list("Theirs")
    with pytest.raises(RemoteListStale, match="was not copied by the portal"):
        send_to_remote_list(kala, "Theirs", "Hello")
    assert not Delivery.objects.exists()
