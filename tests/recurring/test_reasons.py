"""Why an occurrence sent nothing is kept as a code and its values and written in the reader's
language where it is shown (the list, the schedule's page, the admin); the English sentences an
earlier version kept are read into codes once, by migration 0004."""

from __future__ import annotations

import html
import importlib
import re
from datetime import UTC, date, datetime, time

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import translation

from smsportal.core.models import Preference
from smsportal.departments.models import Department
from smsportal.quotas.models import Quota
from smsportal.recurring.models import Occurrence, RecurringSend
from smsportal.recurring.reasons import Reason, reason, reason_text, shown_reason
from smsportal.recurring.sending import run_due
from tests.factories import ContactFactory, ContactListFactory, SenderIDFactory

migration = importlib.import_module("smsportal.recurring.migrations.0004_occurrence_note")
BETWEEN = ("recurring", "0004_occurrence_note")  # both columns: the note, and the old reason

pytestmark = pytest.mark.django_db

RETIRED = {
    "en": "<bdi>SMS-PORTAL</bdi> has been retired and can no longer be sent from: choose another.",
    "ar": "أُوقف <bdi>SMS-PORTAL</bdi> ولم يعد ممكنًا الإرسال منه: اختر اسمًا آخر.",
}
MISSED = {
    "en": "Missed (no worker was running at the time) and set to skip.",
    "ar": "فات موعدها (لم يكن عامل الخلفية يعمل حينها)، فتُخطّيت كما هو مضبوط.",
}


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def staff_list():
    contacts = ContactListFactory(name="Staff")
    contacts.add([ContactFactory(phone=f"+9655000000{i}").pk for i in range(3)])
    return contacts


def schedule_of(account, lists, **fields) -> RecurringSend:
    """A weekly send on Mondays at 09:00 UTC from 30 Nov 2026, planned from 1 Dec."""
    values = {
        "name": "Weekly reminder",
        "account": account,
        "text": "Team meeting at 10",
        "frequency": "weekly",
        "weekdays": [0],
        "time_of_day": time(9, 0),
        "timezone": "UTC",
        "starts_on": date(2026, 11, 30),
        **fields,
    }
    schedule = RecurringSend(**values)
    schedule.plan(utc(2026, 12, 1))
    schedule.save()
    schedule.lists.set(lists)
    return schedule


def run_once(schedule, at=None) -> Occurrence:
    run_due(at or utc(2026, 12, 7, 9, 1))
    return schedule.occurrences.get()


def read_as(client, user, language: str):
    Preference.objects.update_or_create(user=user, defaults={"language": language})
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("language", "role"), [("ar", "manager"), ("en", "operator"), ("en", "manager")]
)
def test_a_refused_run_shows_its_reason_in_the_readers_language(
    client, request, account, script, staff_list, language, role
):
    SenderIDFactory(account=account, value="SMS-PORTAL", status="retired")
    schedule = schedule_of(account, [staff_list], sender="SMS-PORTAL")
    occurrence = run_once(schedule)
    reader = read_as(client, request.getfixturevalue(role), language)

    page = reader.get(f"/recurring/{schedule.pk}/").content.decode()
    listing = reader.get("/recurring/").content.decode()

    assert occurrence.note == {
        "code": "sender_unusable",
        "sender": "SMS-PORTAL",
        "account": account.name,
        "kind": "retired",
    }
    banner = re.search(r'id="schedule-state">(.*?)</div>', page, re.S).group(1)
    history = re.search(r'<table[^>]*id="history">.*?</table>', page, re.S).group()
    refusal = re.search(r'class="[^"]*last-refusal">(.*?)</div>', listing, re.S).group(1)
    for shown in (banner, history, refusal):
        assert RETIRED[language] in shown
    assert ("has been retired" in page + listing) is (language == "en")


@pytest.mark.parametrize("language", ["en", "ar"])
def test_a_missed_and_skipped_send_says_so_in_the_readers_language(
    client, operator, account, script, staff_list, language
):
    schedule = schedule_of(account, [staff_list], on_missed="skip")
    occurrence = run_once(schedule, utc(2026, 12, 7, 12))  # three hours late

    page = read_as(client, operator, language).get(f"/recurring/{schedule.pk}/").content.decode()

    assert occurrence.status == Occurrence.Status.SKIPPED
    assert occurrence.note == {"code": "missed"}
    history = re.search(r'<table[^>]*id="history">.*?</table>', page, re.S).group()
    assert MISSED[language] in history


def test_the_admin_shows_a_readable_reason(admin_client, account, script, staff_list):
    SenderIDFactory(account=account, value="SMS-PORTAL", status="retired")
    schedule = schedule_of(account, [staff_list], sender="SMS-PORTAL")
    run_once(schedule)

    page = admin_client.get(f"/admin/recurring/recurringsend/{schedule.pk}/change/")

    assert "SMS-PORTAL has been retired and can no longer be sent from" in page.content.decode()


# The refusals a run meets, each kept as a code and its values.
def test_lists_with_no_one_to_send_to(account, script):
    schedule = schedule_of(account, [ContactListFactory(name="Empty")])
    assert run_once(schedule).note == {"code": "no_one"}


def test_an_account_switched_off(account, script, staff_list):
    schedule = schedule_of(account, [staff_list])
    account.is_active = False
    account.save()
    assert run_once(schedule).note == {"code": "account_inactive", "account": account.name}


def test_a_maker_no_longer_in_the_schedules_department(account, script, staff_list, operator):
    sales = Department.objects.create(name="Sales")
    schedule = schedule_of(account, [staff_list], department=sales, created_by=operator)
    assert run_once(schedule).note == {"code": "not_in_department", "department": "Sales"}


def test_a_maker_in_no_department(account, script, staff_list, operator):
    operator.departments.clear()
    schedule = schedule_of(account, [staff_list], created_by=operator)
    assert run_once(schedule).note == {"code": "in_no_department"}


def test_a_text_longer_than_the_account_allows(account, script, staff_list):
    schedule = schedule_of(account, [staff_list], text="x" * 800)
    assert run_once(schedule).note == {
        "code": "too_many_parts",
        "parts": 6,
        "account": account.name,
        "most": 5,
    }


def test_a_quota_used_up(account, script, staff_list):
    sales = Department.objects.create(name="Sales")
    Quota.objects.create(department=sales, parts_per_month=0)
    schedule = schedule_of(account, [staff_list], department=sales)

    occurrence = run_once(schedule)

    assert occurrence.note == {
        "code": "over_quota",
        "department": "Sales",
        "account": "",
        "period": "month",
        "metric": "parts",
        "limit": 0,
        "wanted": 3,
        "left": 0,
    }
    with translation.override("ar"):
        assert occurrence.reason == (
            "تجاوز الحصة: حصة Sales على كل الحسابات صفر (0 جزء في الشهر)، فلا يمكن إرسال شيء. "
            "اطلب من مدير رفعها."
        )


# What the pages show for each reason, in English and in Arabic (names isolated).
SHOWN = [
    (
        reason(Reason.NO_ONE),
        "The lists have no one to send to (empty, or every member opted out).",
        "لا أحد في القوائم يُرسل إليه (فارغة، أو ألغى كل الأعضاء اشتراكهم).",
    ),
    (
        reason(Reason.NOT_IN_DEPARTMENT, department="Sales"),
        "You are not in the department <bdi>Sales</bdi>, so you cannot send for it.",
        "لست عضوًا في القسم <bdi>Sales</bdi>، لذا لا يمكنك الإرسال باسمه.",
    ),
    (
        reason(Reason.ACCOUNT_INACTIVE, account="KwtSMS"),
        "<bdi>KwtSMS</bdi> is not active.",
        "<bdi>KwtSMS</bdi> غير مفعّل.",
    ),
    (
        reason(Reason.SENDER_UNUSABLE, sender="ACME", account="KwtSMS", kind="unlisted"),
        "<bdi>KwtSMS</bdi> no longer lists <bdi>ACME</bdi> among its sender IDs: choose another.",
        "لم يعد <bdi>KwtSMS</bdi> يدرج <bdi>ACME</bdi> بين أسماء المرسل: اختر اسمًا آخر.",
    ),
    (
        reason(Reason.TOO_MANY_PARTS, parts=7, account="KwtSMS", most=5),
        "The text needs 7 parts; <bdi>KwtSMS</bdi> allows at most 5 per message.",
        "يحتاج النص إلى 7 أجزاء؛ ويسمح <bdi>KwtSMS</bdi> بـ 5 على الأكثر في الرسالة.",
    ),
    (
        reason(Reason.TEXTS_TOO_LONG, count=1, most=5),
        "1 recipient&#x27;s text needs more parts than the 5 the account allows per message.",
        "نص مستلم واحد يحتاج أجزاء أكثر من 5 التي يسمح بها الحساب لكل رسالة.",
    ),
    (
        reason(
            Reason.OVER_QUOTA,
            department="Sales",
            account="KwtSMS",
            period="day",
            metric="credit",
            limit="5.0000",
            wanted="7.5",
            left="2.5000",
        ),
        "Over quota: this send needs 7.50 credits; 2.50 credits left today in <bdi>Sales</bdi> "
        "on <bdi>KwtSMS</bdi>.",
        "تجاوز الحصة: يحتاج هذا الإرسال إلى 7.50 رصيد؛ يتبقى 2.50 رصيد اليوم في <bdi>Sales</bdi> "
        "على <bdi>KwtSMS</bdi>.",
    ),
    (
        reason(
            Reason.UNAFFORDABLE,
            estimate="12.00",
            account="KwtSMS",
            available="3.00",
            balance="5.00",
            taken_at="2026-12-07T08:50:00+00:00",
            refused_at="2026-12-07T09:00:30+00:00",  # ten minutes old when refused, always
            held="",
            overridable=False,
        ),
        "This send needs 12.00 credits, but <bdi>KwtSMS</bdi> has 3.00 (balance 5.00 as of 10\xa0"
        "minutes ago).",
        "يحتاج هذا الإرسال إلى 12.00 من الرصيد، لكن المتاح في <bdi>KwtSMS</bdi> هو 3.00 (الرصيد "
        "5.00 قبل 10\xa0دقائق).",
    ),
    (reason(Reason.MISSED), MISSED["en"], MISSED["ar"]),
    # A provider's words, kept as given: isolated in their own direction.
    (
        reason(Reason.KEPT, text="Flood <limit> reached."),
        '<bdi dir="auto">Flood &lt;limit&gt; reached.</bdi>',
        '<bdi dir="auto">Flood &lt;limit&gt; reached.</bdi>',
    ),
    # A code this version does not know: shown as it was kept.
    (
        {"code": "from_a_later_version"},
        '<bdi dir="auto">{&#x27;code&#x27;: &#x27;from_a_later_version&#x27;}</bdi>',
        '<bdi dir="auto">{&#x27;code&#x27;: &#x27;from_a_later_version&#x27;}</bdi>',
    ),
    ({}, "", ""),
]


@pytest.mark.parametrize(("kept", "english", "arabic"), SHOWN)
def test_each_reason_is_written_in_the_readers_language(kept, english, arabic):
    for language, expected in (("en", english), ("ar", arabic)):
        with translation.override(language):
            assert shown_reason(kept) == expected
            assert reason_text(kept) == html.unescape(re.sub(r"<[^>]+>", "", expected))


# Each reason the previous version kept in English, and the note migration 0004 makes.
OLD_REASONS = [
    (MISSED["en"], {"code": "missed"}),
    ("The lists have no one to send to (empty, or every member opted out).", {"code": "no_one"}),
    (
        "You are in no department, so you cannot send: ask a Manager to add you to one.",
        {"code": "in_no_department"},
    ),
    ("Choose the department this message is sent for.", {"code": "no_department"}),
    (
        "You are not in the department Sales, so you cannot send for it.",
        {"code": "not_in_department", "department": "Sales"},
    ),
    (
        "SMS-PORTAL has been retired and can no longer be sent from: choose another.",
        {"code": "sender_unusable", "sender": "SMS-PORTAL", "kind": "retired"},
    ),
    (
        "ACME is not a sender ID of KwtSMS: choose another.",
        {"code": "sender_unusable", "sender": "ACME", "account": "KwtSMS", "kind": "unknown"},
    ),
    (
        "ACME was rejected by the provider: choose another.",
        {"code": "sender_unusable", "sender": "ACME", "kind": "rejected"},
    ),
    (
        "ACME is still waiting for the provider's approval: choose another.",
        {"code": "sender_unusable", "sender": "ACME", "kind": "pending"},
    ),
    (
        "KwtSMS no longer lists ACME among its sender IDs: choose another.",
        {"code": "sender_unusable", "sender": "ACME", "account": "KwtSMS", "kind": "unlisted"},
    ),
    (
        "The text needs 7 parts; KwtSMS allows at most 5 per message.",
        {"code": "too_many_parts", "parts": 7, "account": "KwtSMS", "most": 5},
    ),
    (
        "1,204 recipients' texts need more parts than the 5 the account allows per message.",
        {"code": "texts_too_long", "count": 1204, "most": 5},
    ),
    ("KwtSMS is not active.", {"code": "account_inactive", "account": "KwtSMS"}),
    # The quota's and the balance's figures cannot all be read back: kept, as a provider's words.
    (
        "Over quota: this send needs 3 parts; 1 part left today in Sales on KwtSMS.",
        {
            "code": "kept",
            "text": "Over quota: this send needs 3 parts; 1 part left today in Sales on KwtSMS.",
        },
    ),
    ("", {}),
]


@pytest.mark.parametrize(("old", "expected"), OLD_REASONS)
def test_the_migration_reads_each_kind_of_old_reason(old, expected):
    assert migration.note_of(old) == expected
    assert migration.reason_of(expected) == old  # and writes it back when reversed
    with translation.override("en"):
        assert reason_text(expected) == old  # shown in English as before


@pytest.mark.django_db(transaction=True)
def test_the_migration_rewrites_the_stored_rows(account):
    """`to_notes` on the rows of a database back at migration 0004 (both columns), as the
    migration runs it; then forward again, the reason column gone."""
    executor = MigrationExecutor(connection)
    executor.migrate([BETWEEN])
    apps = executor.loader.project_state(BETWEEN).apps
    Historical = apps.get_model("recurring", "RecurringSend")
    schedule = Historical.objects.create(
        name="Weekly",
        account_id=account.pk,
        text="Hi",
        frequency="weekly",
        weekdays=[0],
        time_of_day=time(9, 0),
        timezone="UTC",
        starts_on=date(2026, 11, 30),
    )
    old = ["SMS-PORTAL has been retired and can no longer be sent from: choose another.", "", "?"]
    for n, text in enumerate(old):
        apps.get_model("recurring", "Occurrence").objects.create(
            schedule=schedule, due_at=utc(2026, 12, 7 + n, 9), status="failed", reason=text
        )

    migration.to_notes(apps, None)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes("recurring"))
    notes = [o.note for o in Occurrence.objects.order_by("due_at")]
    assert notes == [
        {"code": "sender_unusable", "sender": "SMS-PORTAL", "kind": "retired"},
        {},
        {"code": "kept", "text": "?"},
    ]
