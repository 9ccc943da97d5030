"""Arabic counts with their words in the right form. Arabic has six plural forms (none, one,
two, 3-10, 11-99, 100 and up): after "two" the noun is dual and the pronouns and verbs that
refer back to it are dual; after 3-10 the noun is plural; after 11-99 and 100 the noun is
singular, yet what refers back to it is plural ("11 مستلمًا مصيرهم", not "مصيره")."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import timezone, translation
from django.utils.translation import ngettext
from freezegun import freeze_time

from smsportal.core import text
from smsportal.core.templatetags.portal import ago
from smsportal.messaging.sending import duplicates_warning
from tests.factories import BalanceSnapshotFactory, ProviderAccountFactory


def arabic(function, *args):
    with translation.override("ar"):
        return str(function(*args)).replace("\xa0", " ")


@pytest.mark.parametrize(
    "count, who",
    [
        (1, "مستلم واحد مصيره غير معروف قد تصله الرسالة مرتين: ربما وصلته المحاولة الأولى"),
        (2, "مستلمان مصيرهما غير معروف قد تصلهما الرسالة مرتين: ربما وصلتهما المحاولة الأولى"),
        (3, "3 مستلمين مصيرهم غير معروف قد تصلهم الرسالة مرتين: ربما وصلتهم المحاولة الأولى"),
        (11, "11 مستلمًا مصيرهم غير معروف قد تصلهم الرسالة مرتين: ربما وصلتهم المحاولة الأولى"),
        (100, "100 مستلم مصيرهم غير معروف قد تصلهم الرسالة مرتين: ربما وصلتهم المحاولة الأولى"),
        (1_000, "1,000 مستلم مصيرهم غير معروف قد تصلهم الرسالة مرتين"),
    ],
)
def test_the_retry_warning_refers_to_its_recipients_in_their_number(count, who):
    warning = arabic(duplicates_warning, count, "IntelliSoftware")

    assert warning.startswith(who)
    assert warning.endswith("ولا يستطيع IntelliSoftware التمييز بين التكرار والرسالة الجديدة.")


@pytest.mark.parametrize(
    "unit, forms",
    [
        ("minute", ["دقيقة واحدة", "دقيقتين", "3 دقائق", "6 دقائق", "11 دقيقة", "100 دقيقة"]),
        ("hour", ["ساعة واحدة", "ساعتين", "3 ساعات", "6 ساعات", "11 ساعة", "100 ساعة"]),
        ("day", ["يوم واحد", "يومين", "3 أيام", "6 أيام", "11 يومًا", "100 يوم"]),
        ("week", ["أسبوع واحد", "أسبوعين", "3 أسابيع", "6 أسابيع", "11 أسبوعًا", "100 أسبوع"]),
        ("month", ["شهر واحد", "شهرين", "3 أشهر", "6 أشهر", "11 شهرًا", "100 شهر"]),
        ("year", ["سنة واحدة", "سنتين", "3 سنوات", "6 سنوات", "11 سنة", "100 سنة"]),
    ],
)
def test_each_unit_of_a_time_span_takes_the_form_of_its_count(unit, forms):
    """Django's own Arabic says "11 سنوات" and "100 ساعات"; ours are the portal's."""
    said = [arabic(lambda n: text.TIME_SPANS[unit] % {"num": n}, n) for n in (1, 2, 3, 6, 11, 100)]

    assert said == forms


@pytest.mark.parametrize(
    "age, said",
    [
        (timedelta(minutes=1), "منذ دقيقة واحدة"),
        (timedelta(minutes=2), "منذ دقيقتين"),
        (timedelta(minutes=3), "منذ 3 دقائق"),
        (timedelta(minutes=6), "منذ 6 دقائق"),
        (timedelta(minutes=11), "منذ 11 دقيقة"),
        (timedelta(minutes=100), "منذ ساعة واحدة"),
        (timedelta(hours=1), "منذ ساعة واحدة"),
        (timedelta(hours=2), "منذ ساعتين"),
        (timedelta(hours=3), "منذ 3 ساعات"),
        (timedelta(hours=6), "منذ 6 ساعات"),
        (timedelta(hours=11), "منذ 11 ساعة"),
        (timedelta(hours=100), "منذ 4 أيام، 4 ساعات"),
        (timedelta(days=1), "منذ يوم واحد"),
        (timedelta(days=2), "منذ يومين"),
        (timedelta(days=3), "منذ 3 أيام"),
        (timedelta(days=6), "منذ 6 أيام"),
        (timedelta(days=11), "منذ أسبوع واحد، 4 أيام"),
        (timedelta(days=100), "منذ 3 أشهر، أسبوع واحد"),
    ],
)
def test_ago_in_arabic(age, said):
    with freeze_time("2026-12-02 12:00:30"):
        assert arabic(ago, timezone.now() - age) == said


def test_ago_in_english_is_unchanged():
    now = timezone.now()
    assert ago(now - timedelta(minutes=3, seconds=5)) == "3\xa0minutes ago"
    assert ago(now - timedelta(minutes=1, seconds=5)) == "1\xa0minute ago"
    assert ago(now - timedelta(days=1, hours=4, seconds=5)) == "1\xa0day, 4\xa0hours ago"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "minutes, said",
    [(1, "منذ دقيقة واحدة"), (2, "منذ دقيقتين"), (6, "منذ 6 دقائق"), (11, "منذ 11 دقيقة")],
)
def test_the_balance_card_says_its_age_in_arabic(minutes, said):
    account = ProviderAccountFactory(name="ISMS")
    BalanceSnapshotFactory(
        account=account,
        amount=Decimal("9995"),
        taken_at=timezone.now() - timedelta(minutes=minutes, seconds=5),
    )

    html = arabic(Template("{% load credits %}{% balance_panel %}").render, Context({}))

    assert said in html


# Plural entries of the catalogue whose forms said the same whatever the count (or a singular
# pronoun after a plural count), each with what it says now for 1, 2, 3, 11 and 100.
CATALOGUE = [
    (
        ("%(count)s contact removed from %(list)s.", "%(count)s contacts removed from %(list)s."),
        {"list": "VIP"},
        [
            "أُزيلت جهة اتصال واحدة من VIP.",
            "أُزيلت جهتا اتصال من VIP.",
            "أُزيلت 3 جهات اتصال من VIP.",
            "أُزيلت 11 جهة اتصال من VIP.",
            "أُزيلت 100 جهة اتصال من VIP.",
        ],
    ),
    (
        ("%(count)s contact deleted.", "%(count)s contacts deleted."),
        {},
        [
            "حُذفت جهة اتصال واحدة.",
            "حُذفت جهتا اتصال.",
            "حُذفت 3 جهات اتصال.",
            "حُذفت 11 جهة اتصال.",
            "حُذفت 100 جهة اتصال.",
        ],
    ),
    (
        ("%(count)s part", "%(count)s parts"),
        {},
        ["جزء واحد", "جزآن", "3 أجزاء", "11 جزءًا", "100 جزء"],
    ),
    (
        (
            "<strong>%(count)s recipient</strong> gets %(parts)s SMS",
            "<strong>%(count)s recipients</strong> get %(parts)s SMS",
        ),
        {"parts": "2"},
        [
            "<strong>مستلم واحد</strong> تصله 2 SMS",
            "<strong>مستلمان</strong> تصلهما 2 SMS",
            "<strong>3 مستلمين</strong> تصلهم 2 SMS",
            "<strong>11 مستلمًا</strong> تصلهم 2 SMS",
            "<strong>100 مستلم</strong> تصلهم 2 SMS",
        ],
    ),
    (
        (
            "Scheduled for %(when)s, to %(count)s recipient.",
            "Scheduled for %(when)s, to %(count)s recipients.",
        ),
        {"when": "2026-12-02 10:00"},
        [
            "مجدولة في 2026-12-02 10:00، إلى مستلم واحد.",
            "مجدولة في 2026-12-02 10:00، إلى مستلمَين.",
            "مجدولة في 2026-12-02 10:00، إلى 3 مستلمين.",
            "مجدولة في 2026-12-02 10:00، إلى 11 مستلمًا.",
            "مجدولة في 2026-12-02 10:00، إلى 100 مستلم.",
        ],
    ),
    (
        (
            "%(count)s message to %(to)s (one per account the routes chose) scheduled.",
            "%(count)s messages to %(to)s (one per account the routes chose) scheduled.",
        ),
        {"to": "+96597111111"},
        [
            "جُدولت رسالة واحدة إلى +96597111111 (رسالة لكل حساب اختارته المسارات).",
            "جُدولت رسالتان إلى +96597111111 (رسالة لكل حساب اختارته المسارات).",
            "جُدولت 3 رسائل إلى +96597111111 (رسالة لكل حساب اختارته المسارات).",
            "جُدولت 11 رسالة إلى +96597111111 (رسالة لكل حساب اختارته المسارات).",
            "جُدولت 100 رسالة إلى +96597111111 (رسالة لكل حساب اختارته المسارات).",
        ],
    ),
    (
        (
            "%(count)s event waiting to be delivered or tried again.",
            "%(count)s events waiting to be delivered or tried again.",
        ),
        {},
        [
            "حدث واحد ينتظر التسليم أو إعادة المحاولة.",
            "حدثان ينتظران التسليم أو إعادة المحاولة.",
            "3 أحداث تنتظر التسليم أو إعادة المحاولة.",
            "11 حدثًا تنتظر التسليم أو إعادة المحاولة.",
            "100 حدث تنتظر التسليم أو إعادة المحاولة.",
        ],
    ),
]


@pytest.mark.parametrize(
    "msgids, values, forms", CATALOGUE, ids=[entry[0][0][:40] for entry in CATALOGUE]
)
def test_catalogue_entries_take_the_form_of_their_count(msgids, values, forms):
    singular, plural = msgids
    said = [
        arabic(lambda n: ngettext(singular, plural, n) % {"count": f"{n:,}", **values}, n)
        for n in (1, 2, 3, 11, 100)
    ]

    assert said == forms
