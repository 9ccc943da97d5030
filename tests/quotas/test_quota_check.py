"""The quota check in the send path: what is refused, what it says, what is counted and given
back."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from smsportal.messaging.models import Message
from smsportal.messaging.sending import ResolvedRecipients, SendRefused, prepare, send
from smsportal.quotas import services
from smsportal.quotas.models import Hold, Usage
from smsportal.sms.status import DeliveryStatus
from tests.factories import ProviderAccountFactory

from .conftest import phones, quota, send_to

pytestmark = pytest.mark.django_db


def used(q, period="day") -> int:
    row = Usage.objects.filter(quota=q, period=period).first()
    return row.parts if row else 0


def test_a_department_with_no_quota_is_unlimited(account, sales):
    message = send_to(account, sales, 50)

    assert message.recipient_count == 50
    assert not Usage.objects.exists() and not Hold.objects.exists()


def test_a_send_over_the_daily_parts_is_refused_saying_what_is_left(account, sales):
    q = quota(sales, account, parts_per_day=5)
    send_to(account, sales, 4)

    with pytest.raises(SendRefused) as refused:
        send_to(account, sales, 2)

    assert refused.value.code == "over_quota"
    assert str(refused.value) == (
        f"Over quota: this send needs 2 parts; 1 part left today in Sales on {account.name}."
    )
    assert used(q) == 4 and Message.objects.count() == 1
    send_to(account, sales, 1)  # exactly what is left still goes
    assert used(q) == 5


def test_parts_count_every_part_of_a_long_text(account, sales):
    q = quota(sales, parts_per_month=1_000)
    message = send_to(account, sales, 3, body="x" * 200)  # 2 parts each

    assert message.segments == 2
    assert used(q, "month") == 6


def test_thousands_are_separated_in_the_refusal(account, sales):
    quota(sales, account, parts_per_month=1_500)
    send_to(account, sales, 300)
    with pytest.raises(SendRefused, match=r"needs 1,500 parts; 1,200 parts left this month"):
        send_to(account, sales, 1_500)


def test_a_quota_over_all_accounts_counts_every_account_and_one_on_an_account_only_that(
    account, sales
):
    other = ProviderAccountFactory(kind="kwtsms", name="Second")
    overall = quota(sales, parts_per_day=10)
    only_first = quota(sales, account, parts_per_day=3)

    send_to(other, sales, 6)
    send_to(account, sales, 3)

    assert (used(overall), used(only_first)) == (9, 3)
    with pytest.raises(SendRefused, match=f"0 parts left today in Sales on {account.name}"):
        send_to(account, sales, 1)
    with pytest.raises(SendRefused, match="1 part left today in Sales on all accounts"):
        send_to(other, sales, 2)
    assert (used(overall), used(only_first)) == (9, 3)  # a refusal takes nothing anywhere


def test_another_department_is_not_limited_by_this_ones_quota(account, sales, support):
    quota(sales, parts_per_day=0)
    assert send_to(account, support, 5).recipient_count == 5


def test_a_quota_of_zero_refuses_every_send_with_a_clear_reason(account, sales):
    quota(sales, account, parts_per_day=0)

    with pytest.raises(SendRefused) as refused:
        send_to(account, sales, 1)

    assert refused.value.code == "over_quota"
    assert "is zero (0 parts a day), so nothing can be sent" in str(refused.value)


def test_a_credit_quota_refuses_saying_the_credit_left(account, sales):
    quota(sales, credit_per_month=Decimal("0.50"))  # price 0.01 a part
    send_to(account, sales, 40)

    with pytest.raises(
        SendRefused,
        match=r"needs 0\.20 credits; 0\.10 credits left this month in Sales on all accounts",
    ):
        send_to(account, sales, 20)


def test_the_check_at_send_refuses_what_the_prepare_check_let_through(account, sales):
    """The confirm page's check reads; the reservation at send decides (another send took the
    room in between): the message is not created."""
    quota(sales, account, parts_per_day=3)
    draft = prepare(
        account=account,
        body="Hi",
        recipients=ResolvedRecipients(phones=phones(2)),
        department=sales,
    )
    send_to(account, sales, 2)

    with pytest.raises(SendRefused, match="1 part left today"):
        send(draft)
    assert Message.objects.count() == 1


def test_usage_counts_in_the_day_and_month_the_send_is_accepted(account, sales):
    q = quota(sales, account, parts_per_day=2, parts_per_month=3)
    today = timezone.localtime()
    services.reserve(sales, account, parts=2, credit=Decimal("0"), message_id=1, now=today)

    with pytest.raises(services.QuotaExceeded, match="left today"):
        services.check(sales, account, parts=1, credit=Decimal("0"), now=today)
    tomorrow = today + timedelta(days=1)
    if tomorrow.month == today.month:
        services.reserve(sales, account, parts=1, credit=Decimal("0"), message_id=2, now=tomorrow)
        with pytest.raises(services.QuotaExceeded, match="0 parts left this month"):
            services.check(sales, account, parts=1, credit=Decimal("0"), now=tomorrow)
    next_month = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    start = timezone.make_aware(datetime.combine(next_month, datetime.min.time()))
    services.check(sales, account, parts=2, credit=Decimal("0"), now=start)  # a new month
    assert Usage.objects.filter(quota=q, period="month").count() == 1


def test_a_cancelled_scheduled_send_gives_its_parts_back(account, sales):
    """Cancelled before it left: given back, so the next send may use the room."""
    q = quota(sales, account, parts_per_day=10)
    message = send_to(account, sales, 6, scheduled_for=timezone.now() + timedelta(hours=2))
    assert used(q) == 6

    assert message.cancel() == 6

    assert used(q) == 0 and not Hold.objects.exists()
    assert send_to(account, sales, 10).recipient_count == 10


def test_parts_that_fail_before_leaving_are_given_back_and_unknown_ones_stay(
    account, script, sales, django_capture_on_commit_callbacks
):
    from smsportal.providers.backends.base import (
        SendResult,
        SubmitResult,
        SubmitStatus,
        TransientError,
    )

    q = quota(sales, account, parts_per_day=10)

    def refuse_one(call, recipients):
        return SendResult(
            results=[
                SubmitResult(
                    recipient=r,
                    status=SubmitStatus.FAILED if i == 0 else SubmitStatus.SUBMITTED,
                    provider_message_id="" if i == 0 else f"M{r.reference}",
                    error_code="bad-number" if i == 0 else "",
                )
                for i, r in enumerate(recipients)
            ]
        )

    script.behaviour = refuse_one
    with django_capture_on_commit_callbacks(execute=True):
        message = send_to(account, sales, 3)
    statuses = sorted(message.deliveries.values_list("status", flat=True))
    assert statuses.count(DeliveryStatus.FAILED) == 1
    assert used(q) == 2  # the refused part is given back; the two submitted stay counted

    def lost(call, recipients):
        raise TransientError("timed out", request_sent=True)

    script.behaviour = lost
    with django_capture_on_commit_callbacks(execute=True):
        message = send_to(account, sales, 2)
    assert set(message.deliveries.values_list("status", flat=True)) == {DeliveryStatus.UNKNOWN}
    assert used(q) == 4  # may have been charged: still counted


def test_a_scheduled_texts_change_recounts_its_parts(account, sales):
    q = quota(sales, account, parts_per_day=10)
    later = timezone.now() + timedelta(hours=2)
    message = send_to(account, sales, 4, scheduled_for=later)  # 4 parts
    from smsportal.messaging.sending import CostRises, reschedule

    def confirmed(body: str) -> None:
        """The change, confirmed as the page confirms a dearer text (CostRises' token)."""
        with pytest.raises(CostRises) as asked:
            reschedule(message, body=body, scheduled_for=later)
        reschedule(message, body=body, scheduled_for=later, accept=asked.value.change.token)

    with pytest.raises(SendRefused, match="needs 8 parts; 6 parts left today"):
        confirmed("x" * 400)  # 3 parts each: 12
    message.refresh_from_db()
    assert (message.segments, used(q)) == (1, 4)  # nothing changed

    confirmed("x" * 200)  # 2 parts each: 8
    assert used(q) == 8
    reschedule(message, body="Short", scheduled_for=later)
    assert used(q) == 4
    message.cancel()
    assert used(q) == 0


@pytest.fixture
def kala(sandbox_account):
    return sandbox_account("kalasms")


def test_a_send_to_a_list_kept_at_the_provider_is_checked_before_and_counted_after(
    kala, sandbox, sales
):
    from smsportal.contacts.models import RemoteListPush
    from smsportal.contacts.remote import run_push
    from smsportal.messaging.sending import send_to_remote_list
    from tests.factories import ContactFactory, ContactListFactory

    staff = ContactListFactory(name="Staff")
    staff.add([ContactFactory(phone=f"+9655000000{i}").pk for i in range(4)])
    run_push(RemoteListPush.objects.create(contact_list=staff, account=kala, remote_name="Staff"))
    q = quota(sales, kala, parts_per_day=6)

    send_to_remote_list(kala, "Staff", "Hello all", department=sales)
    assert used(q) == 4

    with pytest.raises(SendRefused, match="needs 4 parts; 2 parts left today in Sales"):
        send_to_remote_list(kala, "Staff", "Hello again", department=sales)
    assert not [r for r in sandbox.world.received if r.text == "Hello again"]


def test_parts_given_back_take_their_share_of_the_credit_held(account, sales):
    quota(sales, credit_per_month=Decimal("10"))
    services.reserve(sales, account, parts=10, credit=Decimal("1.00"), message_id=7)

    services.release(7, parts=3)
    month = Usage.objects.get()
    assert (month.parts, month.credit) == (7, Decimal("0.70"))
    services.release(7)
    month.refresh_from_db()
    assert (month.parts, month.credit) == (0, Decimal("0")) and not Hold.objects.exists()
