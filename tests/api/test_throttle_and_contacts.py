"""The per-key throttle, and the contacts endpoints' own rules."""

from __future__ import annotations

import pytest

from smsportal.contacts.models import Contact

pytestmark = pytest.mark.django_db


def test_over_the_rate_a_key_gets_429_with_retry_after(settings, operator, key_for):
    settings.API_THROTTLE_RATE = "2/minute"
    call, other = key_for(operator, name="A"), key_for(operator, name="B")
    assert [call("GET", "/api/v1/messages").status_code for _ in range(2)] == [200, 200]
    limited = call("GET", "/api/v1/messages")
    assert limited.status_code == 429
    assert limited.json()["code"] == "rate_limited"
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert other("GET", "/api/v1/messages").status_code == 200  # per key


def test_a_contact_is_stored_in_e164_and_a_second_one_of_the_number_refused(operator, key_for):
    call = key_for(operator)
    made = call("POST", "/api/v1/contacts", {"phone": "97119440", "name": "Ann"})
    assert made.status_code == 201 and made.json()["phone"] == "+96597119440"
    again = call("POST", "/api/v1/contacts", {"phone": "+965 9711 9440"})
    assert again.status_code == 400 and again.json()["errors"][0]["code"] == "unique"
    assert Contact.objects.count() == 1


def test_the_preview_counts_as_the_account_sends(operator, account, key_for):
    answer = key_for(operator)(
        "POST", "/api/v1/preview", {"account": account.pk, "text": "a" * 161}
    )
    assert answer.status_code == 200
    assert answer.json()["segments"] == 2 and answer.json()["alphabet"] == "Standard"
