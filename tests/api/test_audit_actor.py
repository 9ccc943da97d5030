"""What an API call does is put down to the key's user in the audit trail, not to "system":
the key is authenticated in the view, after the audit middleware read the anonymous user."""

from __future__ import annotations

import pytest

from smsportal.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_an_api_send_is_put_down_to_the_keys_user(manager, account, key_for):
    call = key_for(manager)

    answer = call(
        "POST", "/api/v1/messages", {"account": account.pk, "to": ["+96597119440"], "text": "Hi"}
    )

    assert answer.status_code == 202, answer.content
    entry = AuditEntry.objects.get(event="message_sent")
    assert entry.actor == manager


def test_a_change_made_through_the_api_is_put_down_to_the_keys_user(manager, key_for):
    call = key_for(manager)

    answer = call("POST", "/api/v1/contacts", {"phone": "+96597119441", "name": "Huda"})

    assert answer.status_code == 201, answer.content
    created = AuditEntry.objects.filter(event="created", object_repr__contains="Huda")
    assert [entry.actor for entry in created] == [manager]
