"""Every message is a department's: the send path sets it from its source (compose, the API
key, a recurring send, the thread an auto-reply or a reply answers, the message retried), and a
user sends only as one of their departments; a user in none can send nothing."""

from __future__ import annotations

import importlib
import re
from datetime import UTC, date, datetime, time

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.urls import reverse

from smsportal.api.models import ApiKey
from smsportal.departments.models import Department
from smsportal.messaging import sending
from smsportal.messaging.inbound import receive
from smsportal.messaging.models import Conversation, Message
from smsportal.messaging.sending import ResolvedRecipients, SendRefused
from smsportal.providers.backends.base import InboundSMS
from smsportal.recurring.models import RecurringSend
from smsportal.recurring.sending import run_due
from tests.api.conftest import Caller
from tests.factories import ContactFactory, ContactListFactory, UserFactory
from tests.support.compose import confirm_and_send
from tests.support.sending import create_message

pytestmark = pytest.mark.django_db

COMPOSE = reverse("messaging:compose")


@pytest.fixture
def sales(db):
    return Department.objects.create(name="Sales")


@pytest.fixture
def support(db):
    return Department.objects.create(name="Support")


def compose_form(account, **fields):
    return {
        "account": account.pk,
        "sender": "",
        "recipients": "+96550000001",
        "text": "Hello",
        "token": "tok-1",
        **fields,
    }


def prepare(account, **kwargs):
    return sending.prepare(
        account=account, body="Hi", recipients=ResolvedRecipients(phones=["+96550000001"]), **kwargs
    )


def test_a_user_in_no_department_is_refused_with_the_reason(account):
    loner = UserFactory(username="loner")

    with pytest.raises(SendRefused) as refused:
        prepare(account, user=loner)

    assert refused.value.code == "no_department"
    assert "no department" in str(refused.value)


def test_a_user_cannot_send_as_a_department_they_are_not_in(account, operator, sales, support):
    sales.members.add(operator)

    with pytest.raises(SendRefused) as refused:
        prepare(account, user=operator, department=support)

    assert refused.value.code == "not_in_department"
    assert prepare(account, user=operator, department=sales).department == sales


def test_a_superuser_sends_as_any_department(account, admin_user, support):
    assert prepare(account, user=admin_user, department=support).department == support


def test_compose_fixes_the_only_department_and_the_message_is_its(
    operator_client, operator, account, script, django_capture_on_commit_callbacks
):
    page = operator_client.get(COMPOSE).content.decode()
    assert 'id="compose-department"' in page and "General" in page

    with django_capture_on_commit_callbacks(execute=True):
        confirm_and_send(operator_client, compose_form(account))

    assert Message.objects.get().department.name == "General"


def test_compose_offers_a_choice_to_a_member_of_several_and_sends_as_the_chosen(
    operator_client, operator, account, script, sales, django_capture_on_commit_callbacks
):
    sales.members.add(operator)
    page = operator_client.get(COMPOSE).content.decode()
    assert 'name="department"' in page and "<select" in page and "Sales" in page

    with django_capture_on_commit_callbacks(execute=True):
        confirm_and_send(operator_client, compose_form(account, department=sales.pk))

    assert Message.objects.get().department == sales


def test_compose_refuses_a_department_of_someone_else(
    operator_client, operator, account, sales, support
):
    sales.members.add(operator)

    answer = confirm_and_send(operator_client, compose_form(account, department=support.pk))

    assert answer.status_code == 200
    assert not Message.objects.exists()


def test_a_user_in_no_department_sees_why_and_cannot_send(client, account):
    from django.contrib.auth.models import Group

    from smsportal.core.roles import OPERATOR

    loner = UserFactory(username="loner")
    loner.groups.add(Group.objects.get(name=OPERATOR))
    client.force_login(loner)

    page = client.get(COMPOSE).content.decode()
    answer = confirm_and_send(client, compose_form(account))

    assert 'id="no-department"' in page
    assert answer.status_code == 200
    assert "no department" in answer.content.decode()
    assert not Message.objects.exists()


def test_a_retry_is_the_original_messages_department(
    account, operator, sales, script, django_capture_on_commit_callbacks
):
    sales.members.add(operator)
    script.fail_numbers = set()
    with django_capture_on_commit_callbacks(execute=True):
        original = create_message(
            account=account,
            body="Hi",
            recipients=ResolvedRecipients(phones=["+96550000001"]),
            department=sales,
        )
    original.deliveries.update(status="failed")

    retry = sending.retry(original, ["failed"], operator)

    assert retry.department == sales


def test_an_api_send_is_the_keys_department(operator, account, sales, script):
    sales.members.add(operator)
    _key, secret = ApiKey.issue(operator, "Billing", ["send", "read"], department=sales)

    answer = Caller(secret)(
        "POST", "/api/v1/messages", {"account": account.pk, "to": ["+96550000001"], "text": "Hi"}
    )

    assert answer.status_code == 202, answer.content
    assert Message.objects.get().department == sales


def test_an_api_key_without_a_department_cannot_send(operator, account):
    _key, secret = ApiKey.issue(operator, "Old key", ["send"])

    answer = Caller(secret)(
        "POST", "/api/v1/messages", {"account": account.pk, "to": ["+96550000001"], "text": "Hi"}
    )

    assert answer.status_code == 422, answer.content
    assert not Message.objects.exists()


def test_a_recurring_send_is_its_schedules_department(account, script, sales):
    staff = ContactListFactory(name="Staff")
    staff.add([ContactFactory(phone="+96550000001").pk])
    schedule = RecurringSend(
        name="Weekly",
        account=account,
        text="Meeting at 10",
        frequency="weekly",
        weekdays=[0],
        time_of_day=time(9, 0),
        timezone="UTC",
        starts_on=date(2026, 11, 30),
        department=sales,
    )
    now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    schedule.plan(now)
    schedule.save()
    schedule.lists.set([staff])

    run_due(datetime(2026, 11, 30, 9, 0, 30, tzinfo=UTC))

    assert Message.objects.get().department == sales


def test_a_thread_is_the_department_that_wrote_to_the_number_and_auto_replies_are_its(
    account, script, sales, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        create_message(
            account=account,
            body="Offer",
            recipients=ResolvedRecipients(phones=["+96597119440"]),
            department=sales,
        )
        receive(account, InboundSMS(sender="+96597119440", recipient="", text="HELP", raw={}))

    assert Conversation.objects.get().department == sales
    offer, help_answer = Message.objects.order_by("id")
    assert help_answer.body != offer.body  # the HELP text went back
    assert help_answer.department == sales


def test_the_first_reply_to_an_unanswered_thread_gives_it_to_the_repliers_department(
    operator_client, operator, account, script, django_capture_on_commit_callbacks
):
    receive(account, InboundSMS(sender="+96597119440", recipient="", text="Hello?", raw={}))
    convo = Conversation.objects.get()
    assert convo.department is None

    with django_capture_on_commit_callbacks(execute=True):
        operator_client.post(
            reverse("messaging:conversation_reply", args=[convo.pk]),
            {"text": "Hi, how can we help?", "token": "t-1"},
        )

    convo.refresh_from_db()
    assert convo.department.name == "General"
    assert Message.objects.get().department == convo.department


def _new_thread(account):
    """A thread of a number no department wrote to (its first SMS a HELP): it has none."""
    receive(account, InboundSMS(sender="+96597119440", recipient="", text="HELP", raw={}))
    convo = Conversation.objects.get()
    assert convo.department is None
    return convo


def _reply(client, convo, text="Hi, how can we help?", token="t-1", department=None, **extra):  # noqa: S107
    fields = {"text": text, "token": token}
    if department is not None:
        fields["department"] = department
    return client.post(reverse("messaging:conversation_reply", args=[convo.pk]), fields, **extra)


def _offered(page: str) -> list[str]:
    """The departments the reply form's select offers, in order ([] without a select)."""
    form = page.partition('id="reply-form"')[2].partition("</form>")[0]
    select = form.partition('name="department"')[2].partition("</select>")[0]
    return re.findall(r"<option[^>]*>([^<]*)</option>", select)


def test_a_member_of_several_departments_chooses_the_department_of_a_new_threads_reply(
    operator_client, operator, account, script, sales, support, django_capture_on_commit_callbacks
):
    sales.members.add(operator)  # and General, as every user
    Department.objects.create(name="Warehouse")  # not theirs: not offered
    convo = _new_thread(account)

    page = operator_client.get(convo.get_absolute_url()).content.decode()
    assert _offered(page) == ["General", "Sales"]

    refused = _reply(operator_client, convo, text="Typed with care", department=support.pk)
    assert refused.status_code == 400 and not Message.objects.filter(created_by=operator).exists()
    assert "Typed with care" in refused.content.decode()  # the text is kept
    assert _offered(refused.content.decode()) == ["General", "Sales"]

    with django_capture_on_commit_callbacks(execute=True):
        sent = _reply(operator_client, convo, department=sales.pk, HTTP_HX_REQUEST="true")

    assert sent.status_code == 200
    convo.refresh_from_db()
    assert convo.department == sales
    assert Message.objects.get(created_by=operator).department == sales
    assert _offered(sent.content.decode()) == []  # the thread is Sales' now: nothing to choose


def test_a_superuser_chooses_any_department_for_a_new_threads_reply(
    admin_client, admin_user, account, script, sales, support, django_capture_on_commit_callbacks
):
    sales.members.add(admin_user)
    support.members.add(admin_user)
    Department.objects.create(name="Warehouse")
    convo = _new_thread(account)

    page = admin_client.get(convo.get_absolute_url()).content.decode()
    assert _offered(page) == ["Sales", "Support", "Warehouse"]

    with django_capture_on_commit_callbacks(execute=True):
        _reply(admin_client, convo, department=support.pk)

    assert Message.objects.get(created_by=admin_user).department == support
    convo.refresh_from_db()
    assert convo.department == support


def test_a_reply_offers_no_choice_when_its_department_is_known(
    client, manager, operator, account, script, sales, django_capture_on_commit_callbacks
):
    """A member of one department answers as it; a thread with a department is answered as
    its department, whoever of its members replies."""
    convo = _new_thread(account)
    client.force_login(manager)  # in General only
    assert _offered(client.get(convo.get_absolute_url()).content.decode()) == []
    with django_capture_on_commit_callbacks(execute=True):
        assert _reply(client, convo).status_code == 302

    convo.refresh_from_db()
    assert convo.department.name == "General"
    assert Message.objects.get(created_by=manager).department.name == "General"
    sales.members.add(operator)  # General and Sales
    client.force_login(operator)
    assert _offered(client.get(convo.get_absolute_url()).content.decode()) == []
    with django_capture_on_commit_callbacks(execute=True):
        _reply(client, convo, token="t-2", department=sales.pk)

    assert Message.objects.get(created_by=operator).department.name == "General"


def test_a_user_in_no_department_sees_why_a_reply_cannot_be_sent(client, account):
    from django.contrib.auth.models import Group

    from smsportal.core.roles import OPERATOR

    loner = UserFactory(username="loner")
    loner.groups.add(Group.objects.get(name=OPERATOR))
    client.force_login(loner)
    convo = _new_thread(account)

    page = client.get(convo.get_absolute_url()).content.decode()
    answer = _reply(client, convo)

    assert 'id="reply-no-department"' in page and _offered(page) == []
    assert answer.status_code == 400 and 'id="reply-no-department"' in answer.content.decode()
    assert not Message.objects.filter(created_by=loner).exists()


def test_the_upgrade_puts_every_user_and_existing_row_in_general(account):
    """The data migrations, run on rows made as before departments."""
    users = [UserFactory(username=f"u{i}") for i in range(3)]
    message = sending.send(prepare(account))  # an automatic send: no department
    key, _secret = ApiKey.issue(users[0], "Old", ["read"])
    assert message.department is None

    general_migration = importlib.import_module(
        "smsportal.departments.migrations.0002_general_department"
    )
    general_migration.create_general(apps, None)
    for module in (
        "smsportal.messaging.migrations.0017_rows_to_general",
        "smsportal.api.migrations.0003_rows_to_general",
        "smsportal.recurring.migrations.0003_rows_to_general",
    ):
        importlib.import_module(module).to_general(apps, None)

    general = Department.objects.get(name="General")
    assert set(general.members.all()) == set(get_user_model().objects.all())
    message.refresh_from_db()
    key.refresh_from_db()
    assert message.department == key.department == general
