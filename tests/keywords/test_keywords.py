"""Keywords: STOP/START/HELP confirmations, keyword rules and their actions, the loop guard."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from smsportal.contacts.models import Contact, ContactList, OptOut
from smsportal.core.roles import MANAGER, OPERATOR
from smsportal.departments.models import Department
from smsportal.keywords.models import AutoReply, Confirmations, KeywordRule
from smsportal.messaging.inbound import receive
from smsportal.messaging.models import Conversation, Delivery, Message
from smsportal.messaging.sending import ResolvedRecipients
from smsportal.providers.backends.base import InboundSMS
from smsportal.sms.status import DeliveryStatus
from tests.factories import UserFactory
from tests.support.sending import create_message

pytestmark = pytest.mark.django_db

PHONE = "+96597119440"


@pytest.fixture
def sms(account, script, django_capture_on_commit_callbacks):
    """Receive an SMS as the webhook does, and run what its commit queues (immediate tasks)."""

    def _sms(text, sender=PHONE):
        with django_capture_on_commit_callbacks(execute=True):
            return receive(account, InboundSMS(sender=sender, recipient="", text=text, raw={}))

    return _sms


def sent(script) -> list[str]:
    return script.sent_to()


def test_stop_opts_out_and_gets_the_one_confirmation(sms, script, account):
    sms("STOP")

    optout = OptOut.objects.get(phone=PHONE)
    confirmation = Message.objects.get()
    assert confirmation.body == Confirmations._meta.get_field("stop_text").default
    assert optout.confirmation_message_id == confirmation.pk
    assert sent(script) == [PHONE]  # dispatch let the confirmation through
    assert Delivery.objects.get().status == DeliveryStatus.SUBMITTED
    assert AutoReply.objects.get().notes == [{"code": "replied"}]
    assert Conversation.objects.get().last_incoming is False  # the thread shows the answer


def test_a_second_stop_gets_no_second_confirmation(sms, script, account):
    Confirmations.objects.create(account=account, window_minutes=0)
    sms("STOP")
    sms("stop")

    assert sent(script) == [PHONE]
    assert "opted out already" in AutoReply.objects.first().outcome


def test_nothing_else_reaches_an_opted_out_number(sms, script, account):
    Confirmations.objects.create(account=account, window_minutes=0)
    KeywordRule.objects.create(account=account, keyword="JOIN", reply="Welcome!")
    sms("STOP")
    sms("HELP")
    sms("JOIN")

    assert sent(script) == [PHONE]  # the STOP confirmation only
    outcomes = [reply.outcome for reply in AutoReply.objects.order_by("id")]
    assert (
        outcomes[1:]
        == [
            f"not replied: {PHONE} has opted out: the portal sends it nothing "
            "until it sends START again (or a Manager removes the opt-out)."
        ]
        * 2
    )


def test_an_arabic_stop_with_vowel_marks_gets_the_arabic_confirmation(sms, script, account):
    sms("إِلْغَاء")

    assert OptOut.objects.filter(phone=PHONE).exists()
    assert Message.objects.get().body == Confirmations._meta.get_field("stop_text_arabic").default


def test_start_lifts_the_keyword_opt_out_and_confirms(sms, script, account):
    Confirmations.objects.create(account=account, window_minutes=0)
    sms("STOP")
    sms("Start")

    assert not OptOut.objects.exists()
    assert Message.objects.order_by("id").last().body.startswith("You will receive our messages")
    assert sent(script) == [PHONE, PHONE]


def test_help_is_answered_with_the_accounts_text(sms, script, account):
    Confirmations.objects.create(account=account, help_text="Call 1800 for help.")
    sms("help?")

    assert Message.objects.get().body == "Call 1800 for help."


def test_an_empty_confirmation_sends_nothing(sms, script, account):
    Confirmations.objects.create(account=account, stop_text="", stop_text_arabic="")
    sms("STOP")

    assert OptOut.objects.filter(phone=PHONE).exists()
    assert not Message.objects.exists()
    assert AutoReply.objects.get().outcome == "no reply set"


def test_a_keyword_adds_the_sender_to_a_list_and_replies(sms, script, account):
    offers = ContactList.objects.create(name="Offers")
    KeywordRule.objects.create(
        account=account, keyword="Join", reply="You are on the offers list.", add_to_list=offers
    )
    sms("JOIN please")

    contact = Contact.objects.get(phone=PHONE)
    assert offers.members.filter(pk=contact.pk).exists()
    assert Message.objects.get().body == "You are on the offers list."
    assert sent(script) == [PHONE]
    assert AutoReply.objects.get().notes == [
        {"code": "added_to", "list": "Offers"},
        {"code": "replied"},
    ]


def test_a_keyword_removes_the_sender_from_a_list(sms, account):
    offers = ContactList.objects.create(name="Offers")
    contact = Contact.objects.create(phone=PHONE)
    offers.add([contact.pk])
    KeywordRule.objects.create(account=account, keyword="LEAVE", remove_from_list=offers)
    sms("leave")

    assert not offers.members.exists()
    assert AutoReply.objects.get().outcome == "removed from Offers; no reply set"


def test_a_keyword_forwards_the_sms_by_email(sms, account):
    KeywordRule.objects.create(account=account, keyword="ORDER", forward_to="shop@example.com")
    sms("Order 2 boxes of dates")

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["shop@example.com"]
    assert "Order 2 boxes of dates" in mail.outbox[0].body


def test_an_exact_rule_matches_only_the_whole_message(sms, script, account):
    KeywordRule.objects.create(
        account=account, keyword="opening hours", match=KeywordRule.Match.EXACT, reply="9 to 1"
    )
    sms("Opening hours?")
    sms("opening hours on friday", sender="+96597119441")

    assert sent(script) == [PHONE]


def test_an_arabic_keyword_matches_in_any_letter_form(sms, script, account):
    KeywordRule.objects.create(account=account, keyword="أسعار", reply="Prices: ...")
    sms("اسعار اليوم")

    assert sent(script) == [PHONE]


def test_no_reply_to_a_reply_within_the_window(sms, script, account):
    KeywordRule.objects.create(account=account, keyword="JOIN", reply="Welcome!")
    sms("JOIN")
    sms("JOIN")  # an auto-responder answering our reply

    assert sent(script) == [PHONE]
    last = AutoReply.objects.first()
    assert last.notes == [{"code": "quiet_time", "minutes": 10}]
    assert last.outcome == "not replied: it had an automatic reply less than 10 minutes ago"


def test_the_daily_limit_per_number(sms, script, account, monkeypatch):
    Confirmations.objects.create(account=account, window_minutes=1, daily_limit=2)
    KeywordRule.objects.create(account=account, keyword="JOIN", reply="Welcome!")
    start = timezone.now()
    for minutes in (0, 5, 10):
        monkeypatch.setattr(
            "smsportal.keywords.services.timezone.now",
            lambda m=minutes: start + timedelta(minutes=m),
        )
        sms("JOIN")

    assert sent(script) == [PHONE, PHONE]
    assert AutoReply.objects.first().outcome == (
        "not replied: it had 2 automatic replies in the last 24 hours"
    )


def test_only_an_sms_with_a_keyword_queues_work(
    account, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []

    class Recorder:
        @staticmethod
        def enqueue(*args):
            queued.append(args)

    monkeypatch.setattr("smsportal.keywords.tasks.handle_keyword", Recorder)
    KeywordRule.objects.create(account=account, keyword="JOIN", reply="Welcome!")
    with django_capture_on_commit_callbacks(execute=True):
        receive(account, InboundSMS(sender=PHONE, recipient="", text="Hello there", raw={}))
        joined = receive(account, InboundSMS(sender=PHONE, recipient="", text="join", raw={}))

    assert queued == [(joined.pk, "")]


@pytest.mark.parametrize("word", ["STOP", "stop", "Unsubscribe", "الغاء", "START", "help"])
def test_a_rule_cannot_take_stop_start_or_help(manager_client, account, word):
    response = manager_client.post(
        reverse("keywords:rule_create"),
        {"account": account.pk, "keyword": word, "match": "first", "reply": "Hi"},
    )

    assert response.status_code == 200
    assert "so a rule cannot use it" in response.content.decode()
    assert not KeywordRule.objects.exists()


@pytest.mark.parametrize("word", ["Stop", "إلغاء", "HELP ", "start", "مساعدة"])
def test_the_admin_refuses_stop_start_or_help_with_the_reason(admin_client, account, word):
    """The Django admin's form runs the model's own check, not only the rules page."""
    response = admin_client.post(
        reverse("admin:keywords_keywordrule_add"),
        {"account": account.pk, "keyword": word, "match": "first", "reply": "Hi",
         "is_active": "on"},
    )  # fmt: skip

    assert response.status_code == 200
    assert "so a rule cannot use it" in response.content.decode()
    assert not KeywordRule.objects.exists()


def test_a_rule_that_does_nothing_is_refused(manager_client, account):
    response = manager_client.post(
        reverse("keywords:rule_create"),
        {"account": account.pk, "keyword": "JOIN", "match": "first"},
    )

    assert "The rule does nothing" in response.content.decode()


def test_a_manager_saves_a_rule_and_confirmations(manager_client, account):
    response = manager_client.post(
        reverse("keywords:rule_create"),
        {
            "account": account.pk,
            "keyword": "JOIN",
            "match": "first",
            "reply": "Hi",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    response = manager_client.post(
        reverse("keywords:confirmations", args=[account.pk]),
        {"stop_text": "Bye", "window_minutes": 5, "daily_limit": 3},
    )
    assert response.status_code == 302
    assert Confirmations.objects.get(account=account).stop_text == "Bye"


def test_an_operator_sees_the_rules_but_cannot_change_them(operator_client, account):
    KeywordRule.objects.create(account=account, keyword="JOIN", reply="Welcome!")

    page = operator_client.get(reverse("keywords:list"))

    assert page.status_code == 200 and "JOIN" in page.content.decode()
    assert operator_client.get(reverse("keywords:rule_create")).status_code == 403
    assert (
        operator_client.get(reverse("keywords:confirmations", args=[account.pk])).status_code == 403
    )


def test_the_latest_replies_are_those_of_the_threads_the_person_may_see(
    client, sms, account, admin_user, django_capture_on_commit_callbacks
):
    """A STOP to a number Support wrote to is Support's thread and confirmation: an Operator or
    a Manager of Sales (or of no department) sees neither its row nor a link to its message."""
    sales = Department.objects.create(name="Sales")
    support = Department.objects.create(name="Support")
    with django_capture_on_commit_callbacks(execute=True):
        create_message(
            account=account,
            body="Offer",
            recipients=ResolvedRecipients(phones=[PHONE]),
            department=support,
            created_by=admin_user,
        )
    sms("STOP")
    confirmation = AutoReply.objects.get().message
    assert confirmation.department == support
    link = reverse("messaging:message_detail", args=[confirmation.pk])

    def page_as(user) -> str:
        client.force_login(user)
        return client.get(reverse("keywords:list")).content.decode()

    for role in (OPERATOR, MANAGER):
        in_sales = UserFactory(username=f"sales-{role}")
        in_sales.groups.add(Group.objects.get(name=role))
        sales.members.add(in_sales)
        in_none = UserFactory(username=f"none-{role}")
        in_none.groups.add(Group.objects.get(name=role))
        in_support = UserFactory(username=f"support-{role}")
        in_support.groups.add(Group.objects.get(name=role))
        support.members.add(in_support)

        for outsider in (in_sales, in_none):
            page = page_as(outsider)
            assert PHONE not in page and link not in page
            assert "No automatic replies yet." in page
        page = page_as(in_support)
        assert PHONE in page and link in page
    page = page_as(admin_user)
    assert PHONE in page and link in page
    staff = UserFactory(username="sales-staff", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_autoreply"))
    sales.members.add(staff)
    client.force_login(staff)
    listing = client.get("/admin/keywords/autoreply/")
    assert listing.status_code == 200 and PHONE not in listing.content.decode()


def test_in_arabic_what_happened_and_a_keywords_opt_out_are_translated(
    sms, manager_client, manager, account
):
    from smsportal.core.models import Preference

    Preference.objects.update_or_create(user=manager, defaults={"language": "ar"})
    team = ContactList.objects.create(name="Support team")
    KeywordRule.objects.create(account=account, keyword="JOIN", reply="Welcome", add_to_list=team)
    sms("STOP")
    sms("JOIN", sender="+96597119441")

    page = manager_client.get(reverse("keywords:list")).content.decode()
    optouts = manager_client.get(reverse("contacts:optout_list")).content.decode()

    assert re.search(r'<td class="small" data-label="[^"]+">أُرسل الرد ·', page)
    assert "أُضيف إلى <bdi>Support team</bdi>؛ أُرسل الرد" in page
    assert "replied" not in page.split("<main", 1)[1]
    assert "الكلمة المفتاحية STOP" in optouts and "keyword STOP" not in optouts


def test_in_arabic_a_number_inside_a_sentence_reads_left_to_right(
    sms, manager_client, manager, account
):
    from smsportal.core.models import Preference

    Preference.objects.update_or_create(user=manager, defaults={"language": "ar"})
    sms("STOP")
    conversation = Conversation.objects.get()

    inbox = manager_client.get(reverse("messaging:inbox")).content.decode()
    thread = manager_client.get(conversation.get_absolute_url()).content.decode()

    assert f'<bdi dir="ltr">{PHONE}</bdi>' in inbox
    assert f'ألغى <bdi dir="ltr">{PHONE}</bdi> اشتراكه' in thread  # the opt-out banner
    assert f"<bdi>{PHONE}</bdi>" not in thread
