"""Compose with placeholders: the preview per recipient (distribution, who goes Unicode, the
first rendered texts, problems with how many they affect), the send refused until fixed, the
affordability check on the exact total, and each person's own text sent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from smsportal.contacts.models import Contact, ContactField, ContactList
from smsportal.messaging.models import Message
from tests.support.compose import confirm_and_send

pytestmark = pytest.mark.django_db

URL = reverse("messaging:compose")


@pytest.fixture
def customers(db):
    ContactField.objects.create(key="city", label="City")
    customers = ContactList.objects.create(name="Customers")
    people = [
        Contact.objects.create(
            phone="+96550000001", name="Sara Ali", attributes={"city": "Kuwait"}
        ),
        Contact.objects.create(phone="+96550000002", name="محمد", attributes={"city": "Salmiya"}),
        Contact.objects.create(phone="+96550000003", name="", attributes={"city": "Hawally"}),
    ]
    customers.add([p.pk for p in people])
    return customers


def form(account, customers, **fields):
    return {
        "account": account.pk,
        "sender": "",
        "recipients": "",
        "lists": [customers.pk],
        "text": "Hello {first_name|Customer}, see you in {city}",
        "token": "tok-personal",
        "action": "preview",
        **fields,
    }


def test_the_preview_shows_each_recipients_text_and_who_goes_unicode(
    operator_client, account, customers
):
    html = operator_client.post(
        URL, form(account, customers), HTTP_HX_REQUEST="true"
    ).content.decode()

    assert 'id="preview-personal"' in html
    assert "<strong>3 recipients</strong> get 1 SMS" in html
    assert "1 recipient gets the message in Unicode" in html
    # The quotes outside the value's own direction: the Arabic name does not take them along.
    assert "{first_name} is “<bdi>محمد</bdi>”" in html
    assert "Hello Sara, see you in Kuwait" in html
    assert "Hello Customer, see you in Hawally" in html
    assert "3 SMS in all" in html


def test_an_unknown_field_is_shown_with_how_many_it_affects_and_the_send_refused(
    operator_client, account, customers
):
    data = form(account, customers, text="Hi {town}", action="send")

    html = operator_client.post(URL, data).content.decode()

    assert "{town} is no contact field (it would be missing for 3 recipients)" in html
    assert 'id="confirm"' not in html
    assert not Message.objects.exists()


def test_a_missing_value_without_fallback_is_counted_and_refused(
    operator_client, account, customers
):
    data = form(account, customers, text="Hi {first_name}", recipients="+96550000009")

    html = operator_client.post(URL, data, HTTP_HX_REQUEST="true").content.decode()
    assert "{first_name} is empty for 2 recipients and has no fallback" in html
    refused = operator_client.post(URL, {**data, "action": "send"}).content.decode()
    assert 'id="confirm"' not in refused


def test_an_unclosed_brace_is_refused_with_its_position(operator_client, account, customers):
    data = form(account, customers, text="Hello {first_name", action="send")

    html = operator_client.post(URL, data).content.decode()

    assert "The “{” at character 7 is never closed" in html
    assert not Message.objects.exists()


def test_the_affordability_check_uses_the_exact_total(operator_client, account, script, customers):
    from smsportal.credits.models import BalanceSnapshot
    from smsportal.providers.backends.base import Balance

    account.price_per_segment = Decimal("1")
    account.save()
    Contact.objects.filter(phone="+96550000001").update(attributes={"city": "k" * 200})
    script.balance = Balance(amount=Decimal("4.5"))
    BalanceSnapshot.objects.record(account, script.balance, "refresh")

    html = operator_client.post(URL, form(account, customers, action="send")).content.decode()

    # 2 SMS for Sara (her city is long), 1 each for the others: 4 needed, 4.50 available.
    assert 'id="confirm"' in html
    Contact.objects.filter(phone="+96550000002").update(attributes={"city": "k" * 200})
    html = operator_client.post(URL, form(account, customers, action="send")).content.decode()
    # Now محمد's text is long too, and in Unicode (67 per part): 4 SMS. 2 + 4 + 1 = 7.
    assert "This send needs 7.00 credits" in html


def test_confirm_sends_each_person_their_own_text(
    operator_client, account, script, customers, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        confirm_and_send(operator_client, form(account, customers))

    message = Message.objects.get()
    assert message.personal
    assert sorted(script.texts) == [
        "Hello Customer, see you in Hawally",
        "Hello Sara, see you in Kuwait",
        "Hello محمد, see you in Salmiya",
    ]
    page = operator_client.get(message.get_absolute_url()).content.decode()
    assert "Hello Sara, see you in Kuwait" in page


def test_double_braces_send_one_brace_without_personalising(
    operator_client, account, script, django_capture_on_commit_callbacks
):
    data = {
        "account": account.pk,
        "recipients": "+96550000001",
        "text": "Use code {{SAVE10}}",
        "token": "tok-braces",
    }
    with django_capture_on_commit_callbacks(execute=True):
        confirm_and_send(operator_client, data)

    message = Message.objects.get()
    assert (message.body, message.personal) == ("Use code {SAVE10}", False)
    assert script.texts == ["Use code {SAVE10}"]


@pytest.mark.parametrize("text", ["Hello {name}", "Hello {name|friend} from {city}"])
def test_a_personalised_text_before_any_recipient_is_chosen_previews_without_a_crash(
    operator_client, account, customers, text
):
    # A template picked first, numbers and lists still empty: the live preview once answered
    # 500 (an empty choice of contacts made no SQL to count in).
    no_one = form(account, customers, lists=[], text=text)
    for headers in ({"HTTP_HX_REQUEST": "true"}, {}):
        response = operator_client.post(URL, no_one, **headers)
        assert response.status_code == 200
        assert "<strong>0</strong> numbers to send to" in response.content.decode()
