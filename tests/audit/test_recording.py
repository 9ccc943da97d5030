"""What the audit trail records: model changes (never a secret), actions, who and from where."""

from __future__ import annotations

import json

import pytest
from auditlog.context import set_actor
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from smsportal.core import audit
from smsportal.core.models import AuditEntry
from smsportal.messaging.models import Message
from smsportal.providers import crypto
from smsportal.providers.models import ProviderAccount
from tests.factories import PASSWORD, ProviderAccountFactory
from tests.messaging.test_compose import form as compose_form
from tests.providers.test_account_pages import no_dns, post_data  # noqa: F401  (fixture)
from tests.support.compose import confirm_and_send

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "n3w-pr0vider-secret"


def everything_stored(entry: AuditEntry) -> str:
    return json.dumps(
        [entry.changes, entry.additional_data, entry.object_repr, entry.serialized_data],
        default=str,
    )


def test_a_send_is_recorded_with_who_and_from_where(
    operator_client, operator, account, script, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        confirm_and_send(operator_client, compose_form(account), REMOTE_ADDR="192.0.2.7")

    message = Message.objects.get()
    entry = AuditEntry.objects.get(event="message_sent")
    assert entry.actor == operator and entry.actor_name == "operator"
    assert entry.remote_addr == "192.0.2.7"
    assert entry.object_pk == str(message.pk)
    assert entry.additional_data == {"recipients": 1}


def test_editing_a_scheduled_message_is_recorded_as_a_change_not_as_a_new_schedule(
    operator_client, operator, account, settings
):
    from datetime import timedelta

    from django.utils import timezone

    from smsportal.messaging.sending import ResolvedRecipients
    from tests.support.sending import create_message

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    when = timezone.now() + timedelta(days=1)
    with set_actor(operator):
        message = create_message(
            account=account,
            body="Later",
            recipients=ResolvedRecipients(phones=["+96550000001"]),
            scheduled_for=when,
            created_by=operator,
        )
    later = timezone.localtime(when + timedelta(hours=1)).replace(second=0, microsecond=0)

    response = operator_client.post(
        reverse("messaging:message_edit", args=[message.pk]),
        {"body": "Later still", "scheduled_for": later.strftime("%Y-%m-%d %H:%M")},
    )

    assert response.status_code == 302
    scheduled, changed = AuditEntry.objects.filter(
        object_pk=str(message.pk), content_type__model="message"
    ).order_by("id")
    assert scheduled.event == "message_scheduled"
    assert changed.event == "message_changed" and changed.actor == operator
    assert changed.changes["body"] == ["Later", "Later still"]
    assert audit.EVENTS[changed.event] == "Changed a scheduled message"


def test_an_account_change_keeps_before_and_after_but_never_the_password(manager_client, manager):
    response = manager_client.post(reverse("providers:create"), post_data("kwtsms"))
    assert response.status_code == 302
    account = ProviderAccount.objects.get()
    created = AuditEntry.objects.get(event="created", content_type__model="provideraccount")
    assert created.actor == manager and created.object_pk == str(account.pk)
    assert "credit_transfers" not in created.changes  # only the account's own fields
    edit = post_data("kwtsms", name="Renamed", password=NEW_PASSWORD, max_parts="3")

    response = manager_client.post(reverse("providers:edit", args=[account.pk]), edit)

    assert response.status_code == 302, response.content.decode()[:2000]
    entry = AuditEntry.objects.get(
        event="changed", object_pk=str(account.pk), content_type__model="provideraccount"
    )
    assert entry.actor == manager
    assert entry.changes["name"] == ["My kwtsms", "Renamed"]
    assert entry.changes["max_parts"] == [5, 3]
    before, after = entry.changes["password_ciphertext"]
    assert before.startswith("hidden #") and after.startswith("hidden #") and before != after
    account.refresh_from_db()
    for stored in (everything_stored(e) for e in AuditEntry.objects.all()):
        assert NEW_PASSWORD not in stored
        assert "pa55-w0rd-never-shown" not in stored
        assert account.password_ciphertext not in stored
        assert account.webhook_token not in stored


def test_a_secret_option_is_hidden_and_other_options_shown(manager):
    account = ProviderAccountFactory(kind="kwtsms", options={"transport": "http"})
    secret = crypto.encrypt("smtp-secret")

    with set_actor(manager):
        account.options = {"transport": "smtp", "smtp_password": secret}
        account.save()

    entry = AuditEntry.objects.get(event="changed", content_type__model="provideraccount")
    before, after = entry.changes["options"]
    assert "'transport': 'http'" in before
    assert "'transport': 'smtp'" in after and "'smtp_password': 'hidden #" in after
    assert secret not in after


def test_a_token_rotation_is_recorded_without_the_tokens(manager_client, manager):
    account = ProviderAccountFactory()
    old = account.webhook_token

    manager_client.post(reverse("providers:rotate_token", args=[account.pk]))

    account.refresh_from_db()
    assert AuditEntry.objects.filter(event="token_rotated", actor=manager).exists()
    for stored in (everything_stored(e) for e in AuditEntry.objects.all()):
        assert old not in stored and account.webhook_token not in stored


def test_a_users_password_and_last_log_in_are_not_recorded(manager):
    with set_actor(manager):
        manager.set_password("another horse battery")
        manager.first_name = "Mona"
        manager.save()

    entry = AuditEntry.objects.filter(event="changed", object_pk=str(manager.pk)).first()
    assert entry.actor == manager
    assert set(entry.changes) == {"first_name"}


def test_a_contacts_derived_columns_are_not_recorded(manager):
    from smsportal.contacts.models import Contact

    with set_actor(manager):
        contact = Contact.objects.create(phone="+96597119440", name="Mona")
        contact.name = "Mona Saleh"
        contact.save()

    created, changed = AuditEntry.objects.get_for_object(contact).order_by("pk")
    assert "measures" not in created.changes and "name_key" not in created.changes
    assert {"phone", "name"} <= set(created.changes)
    assert set(changed.changes) == {"name"}


def test_a_users_groups_are_recorded(client, operator, manager):
    from django.contrib.auth.models import Group

    with set_actor(manager):
        operator.groups.add(Group.objects.get(name="Manager"))

    entry = AuditEntry.objects.filter(event="changed", object_pk=str(operator.pk)).first()
    assert entry.changes["groups"]["objects"] == ["Manager"]
    assert entry.actor == manager


def test_log_in_log_out_and_a_failure_are_recorded(client, manager):
    client.post(reverse("login"), {"username": "manager", "password": "guess"})
    client.post(reverse("login"), {"username": "nobody", "password": "guess"})
    client.post(reverse("login"), {"username": "manager", "password": PASSWORD})
    client.post(reverse("logout"))

    events = list(
        AuditEntry.objects.exclude(event__in=["created", "changed"])
        .order_by("id")
        .values_list("event", "actor_name", "remote_addr")
    )
    assert events == [
        ("login_failed", "manager", "127.0.0.1"),
        ("login_failed", "nobody", "127.0.0.1"),
        ("login", "manager", "127.0.0.1"),
        ("logout", "manager", "127.0.0.1"),
    ]
    assert "guess" not in everything_stored(AuditEntry.objects.filter(event="login_failed")[0])


def test_the_address_is_the_clients_as_our_proxy_reports_it(client, settings, manager):
    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]
    client.post(
        reverse("login"),
        {"username": "manager", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )
    client.post(  # an untrusted caller's header is ignored
        reverse("login"),
        {"username": "manager", "password": "x"},
        REMOTE_ADDR="198.51.100.4",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )

    entries = AuditEntry.objects.filter(event__startswith="login").order_by("id")
    assert list(entries.values_list("remote_addr", flat=True)) == [
        "203.0.113.9",
        "198.51.100.4",
    ]


def test_two_factor_changes_and_a_code_log_in_are_recorded(client, manager):
    from tests.users.helpers import log_in_with_code, turn_on

    device, _ = turn_on(manager)
    log_in_with_code(client, manager, device)

    login = AuditEntry.objects.get(event="login")
    assert login.additional_data == {"second_factor": "Authenticator app"}
    client.post(reverse("users:two_factor_disable"), {"disable-code": "wrong"})
    assert not AuditEntry.objects.filter(event="two_factor_off").exists()


def test_an_export_is_recorded(manager_client, manager):
    response = manager_client.get(reverse("contacts:contact_export"), {"q": "ali"})
    b"".join(response.streaming_content)

    entry = AuditEntry.objects.get(event="exported")
    assert entry.additional_data == {"what": "contacts", "filters": {"q": "ali"}}


def test_an_entry_cannot_be_changed_or_deleted(manager):
    entry = audit.record("exported", actor=manager, what="contacts")

    entry.object_repr = "something else"
    with pytest.raises(PermissionDenied, match="cannot be changed"):
        entry.save()
    with pytest.raises(PermissionDenied, match="cannot be deleted"):
        entry.delete()
    assert AuditEntry.objects.get(event="exported").object_repr == ""


def test_an_unknown_event_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown audit event"):
        audit.record("sent_a_fax")


def test_a_task_outside_a_request_is_recorded_as_the_system(manager_client):
    manager_client.get(reverse("dashboard"))  # a request came and went in this thread

    entry = audit.record("exported", what="nightly")

    assert entry.actor is None and entry.actor_name == "" and entry.remote_addr is None
