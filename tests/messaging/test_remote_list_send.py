"""The send to a list kept at the provider (messaging/sending.send_to_remote_list, from the page of
those lists): one message per form however often it is posted, a message on record before the
request leaves and settled by the answer (`unknown` when none came), counted as every send is,
and priced and measured as `prepare` prices and measures a send."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages

from smsportal.contacts.models import Contact, ContactList, RemoteListPush
from smsportal.core.roles import OPERATOR
from smsportal.departments.models import Department
from smsportal.messaging import sending
from smsportal.messaging.daily_stats import computed_from_deliveries, current
from smsportal.messaging.models import Delivery, Message
from smsportal.messaging.sending import ResolvedRecipients, SendRefused, send_to_remote_list
from smsportal.providers.backends.base import (
    Balance,
    ProtocolError,
    ProviderError,
    TransientError,
)
from smsportal.quotas.models import Quota, Usage
from smsportal.routing.models import DestinationPrice
from smsportal.sms.encoding import UCS2, EncodingProfile
from smsportal.sms.status import DeliveryStatus
from tests.factories import BalanceSnapshotFactory, UserFactory

pytestmark = pytest.mark.django_db

MEMBER = "+96550000111"


@pytest.fixture
def alpha(account, script, client, django_capture_on_commit_callbacks):
    """An Operator of Alpha, signed in, whose list of one member is copied to `account`."""
    script.remote = {}
    department = Department.objects.create(name="Alpha")
    person = UserFactory(username="alice")
    person.groups.add(Group.objects.get(name=OPERATOR))
    department.members.add(person)
    customers = ContactList.objects.create(name="Customers", department=department)
    customers.add([Contact.objects.create(phone=MEMBER, department=department).pk])
    client.force_login(person)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/contacts/lists/{customers.pk}/push/", {"account": account.pk})
    push = customers.pushes.get()
    assert push.status == RemoteListPush.Status.DONE
    script.calls.clear()
    return {"department": department, "user": person, "push": push}


def page_token(client, account) -> str:
    """The one-time token the page of the lists gives the send form."""
    page = client.get(f"/contacts/remote/{account.pk}/").content.decode()
    form = re.search(r'action="/messages/remote-lists/\d+/send/".*?</form>', page, re.S)[0]
    return re.search(r'name="token" value="([^"]+)"', form)[1]


def post(client, account, alpha, text="Offer", **extra):
    data = {"name": alpha["push"].remote_name, "text": text, "department": alpha["department"].pk}
    return client.post(f"/messages/remote-lists/{account.pk}/send/", {**data, **extra})


def shown(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def answer_with(monkeypatch, account, script, error):
    """The provider's list send, reached (the call is kept) and then failing with `error`; it
    checks the message is on record, `sending`, while the request is out."""
    seen = {}

    def fails(self, name, message):
        script.calls.append(list(script.remote[name]))
        delivery = Delivery.objects.get(phone=f"list:{name}")
        seen["while sending"] = (delivery.status, delivery.message.status)
        raise error

    monkeypatch.setattr(type(account.backend), "send_to_remote_list", fails)
    return seen


# --- one message per form ----------------------------------------------------------------------


def test_the_form_posted_twice_sends_once_and_answers_with_the_first_message(
    client, account, script, alpha
):
    token = page_token(client, account)
    first = post(client, account, alpha, token=token)
    again = post(client, account, alpha, token=token)  # a double click, or Back and Send again

    message = Message.objects.get(body="Offer")
    assert script.calls == [[MEMBER]]
    assert first.url == again.url == message.get_absolute_url()
    assert shown(again)[-1] == (  # after the first's, which no page showed yet
        "info",
        f"This form was sent already, as message #{message.pk} to the list "
        f"“{alpha['push'].remote_name}”: it was not sent again.",
    )
    assert message.idempotency_key == f"form:{alpha['user'].pk}:{token}"


def test_each_page_gives_the_form_a_new_token_and_each_sends(client, account, script, alpha):
    post(client, account, alpha, token=page_token(client, account))
    post(client, account, alpha, token=page_token(client, account))
    assert len(script.calls) == 2 and Message.objects.filter(body="Offer").count() == 2


def test_a_tampered_token_sends_once_under_no_key_it_names(client, account, script, alpha):
    post(client, account, alpha, token="recurring:1:2026-01-01")
    message = Message.objects.get(body="Offer")
    assert script.calls == [[MEMBER]]
    assert message.idempotency_key.startswith(f"form:{alpha['user'].pk}:")
    assert "recurring" not in message.idempotency_key


# --- on record before the request, settled by the answer ---------------------------------------


def test_a_send_whose_answer_never_came_is_recorded_unknown_and_says_so(
    client, account, script, alpha, monkeypatch
):
    q = Quota.objects.create(department=alpha["department"], account=account, parts_per_day=10)
    seen = answer_with(monkeypatch, account, script, TransientError("Read timed out"))

    response = post(client, account, alpha, text="Maybe sent", token=page_token(client, account))

    message = Message.objects.get(body="Maybe sent")
    delivery = message.deliveries.get()
    assert seen["while sending"] == (DeliveryStatus.SENDING, Message.Status.SENDING)
    assert (delivery.status, delivery.error_text) == (
        DeliveryStatus.UNKNOWN,
        "Outcome unknown: Read timed out",
    )
    assert message.status == Message.Status.DONE and delivery.cost == message.estimated_cost
    assert response.url == message.get_absolute_url()
    ((level, text),) = shown(response)
    assert level == "warning"
    assert f"cannot tell whether message #{message.pk} went to the list" in text
    assert "Do not send it again before asking" in text
    page = client.get(response.url).content.decode()
    assert 'id="retry-form"' not in page and 'id="retry-warning"' not in page
    assert "which a retry cannot send to" in page and "ask the provider first" in page
    # Counted as dispatch counts an unknown delivery: it may have been charged.
    assert Usage.objects.get(quota=q, period="day").parts == 1
    assert current() == computed_from_deliveries()
    assert {key[3] for key in current()} == {DeliveryStatus.UNKNOWN}


@pytest.mark.parametrize(
    "error, status",
    [
        (TransientError("Connection refused", request_sent=False), DeliveryStatus.FAILED),
        (ProviderError("KalaSMS refused sendbulk: ERR 12", code="sendbulk"), DeliveryStatus.FAILED),
        (ProtocolError("KalaSMS gave an answer the portal does not understand"), "unknown"),
    ],
)
def test_the_answer_decides_failed_or_unknown(
    client, account, script, alpha, monkeypatch, error, status
):
    q = Quota.objects.create(department=alpha["department"], account=account, parts_per_day=10)
    answer_with(monkeypatch, account, script, error)

    response = post(client, account, alpha, token=page_token(client, account))

    delivery = Delivery.objects.get(message__body="Offer")
    assert delivery.status == status
    assert current() == computed_from_deliveries()
    if status == DeliveryStatus.FAILED:
        # Certainly not taken: not charged, its parts given back, the form shown again.
        assert delivery.cost is None and Usage.objects.get(quota=q, period="day").parts == 0
        assert response.url == f"/contacts/remote/{account.pk}/"
        assert shown(response)[0][0] == "error"
    else:
        assert Usage.objects.get(quota=q, period="day").parts == 1
        assert shown(response)[0][0] == "warning"


def test_a_message_sent_to_a_remote_list_is_not_retried_as_numbers(
    account, script, alpha, monkeypatch
):
    answer_with(monkeypatch, account, script, TransientError("Read timed out"))
    message, _created = send_to_remote_list(
        account, alpha["push"].remote_name, "Hi", alpha["user"], alpha["department"]
    )
    with pytest.raises(SendRefused, match="went to a list kept at the provider"):
        sending.retry(message, ["unknown"], alpha["user"], accept_duplicates=True)
    assert Message.objects.count() == 1


# --- priced and measured as every send ---------------------------------------------------------


def test_the_balance_is_checked_at_the_members_destination_prices(client, account, script, alpha):
    script.balance = Balance(amount=Decimal("0.50"))
    BalanceSnapshotFactory(account=account, amount=Decimal("0.50"))
    DestinationPrice.objects.create(account=account, prefix="965", price_per_part=Decimal("1.00"))
    with pytest.raises(SendRefused) as compose:  # the one send path, to the same member
        sending.prepare(
            account=account,
            body="Offer",
            department=alpha["department"],
            user=alpha["user"],
            recipients=ResolvedRecipients(phones=[MEMBER]),
        )

    response = post(client, account, alpha, token=page_token(client, account))

    assert script.calls == [] and not Message.objects.exists()
    assert shown(response) == [("error", str(compose.value))]


def test_the_quota_credit_is_the_members_destination_cost(account, script, alpha):
    DestinationPrice.objects.create(account=account, prefix="965", price_per_part=Decimal("0.30"))
    q = Quota.objects.create(
        department=alpha["department"], account=account, credit_per_month=Decimal("0.50")
    )
    with pytest.raises(SendRefused, match="Over quota"):
        send_to_remote_list(
            account, alpha["push"].remote_name, "x" * 200, alpha["user"], alpha["department"]
        )  # 2 parts at 0.30: 0.60
    message, _created = send_to_remote_list(
        account, alpha["push"].remote_name, "Offer", alpha["user"], alpha["department"]
    )
    assert message.estimated_cost == Decimal("0.30")
    assert Usage.objects.get(quota=q, period="month").credit == Decimal("0.30")


def test_a_member_taken_off_the_list_since_the_copy_is_priced_at_the_dearest(
    account, script, alpha
):
    DestinationPrice.objects.create(account=account, prefix="965", price_per_part=Decimal("0.30"))
    RemoteListPush.objects.filter(pk=alpha["push"].pk).update(pushed=3)  # 2 left the list since
    message, _created = send_to_remote_list(
        account, alpha["push"].remote_name, "Offer", alpha["user"], alpha["department"]
    )
    assert message.estimated_cost == Decimal("0.90")


def test_the_text_is_measured_in_the_accounts_encoding(account, script, alpha, monkeypatch):
    def no_new_lines(text, alphabet):
        return "This account cannot send a new line." if "\n" in text else ""

    unicode_only = EncodingProfile(name="ucs2-only", alphabets=(UCS2,), refusal=no_new_lines)
    monkeypatch.setattr(type(account.backend), "encoding_profile", unicode_only)
    name, who = alpha["push"].remote_name, (alpha["user"], alpha["department"])

    with pytest.raises(SendRefused, match="cannot send a new line"):
        send_to_remote_list(account, name, "Two\nlines", *who)
    message, _created = send_to_remote_list(account, name, "a" * 100, *who)

    assert script.calls == [[MEMBER]]
    assert (message.encoding, message.segments) == (UCS2, 2)  # 1 part in GSM-7
