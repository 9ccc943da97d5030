"""An automatic reply's outcome is kept as notes (a code and its values) and written in the
reader's language when the Keywords page shows it; the English sentences an earlier version kept
are read into notes once, by migration 0003."""

from __future__ import annotations

import importlib
import re

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from smsportal.core.models import Preference
from smsportal.keywords.models import AutoReply
from smsportal.keywords.outcomes import Note, note, shown_outcome

migration = importlib.import_module("smsportal.keywords.migrations.0003_autoreply_notes")
BETWEEN = ("keywords", "0003_autoreply_notes")  # both columns: the notes, and the old outcome

REFUSAL = "The daily quota of the account is used up."

# Each kind of note, with what the Keywords page shows for it in English and in Arabic.
SHOWN = [
    (note(Note.REPLIED), "replied", "أُرسل الرد"),
    (note(Note.NO_REPLY_SET), "no reply set", "لا رد محدد"),
    (
        note(Note.ALREADY_OPTED_OUT),
        "no confirmation: the number had opted out already",
        "لا تأكيد: كان الرقم قد ألغى اشتراكه من قبل",
    ),
    (
        note(Note.CONFIRMED_ALREADY),
        "no confirmation: the opt-out was confirmed already or lifted",
        "لا تأكيد: سبق تأكيد إلغاء الاشتراك أو رُفع",
    ),
    (
        note(Note.SWITCHED_OFF),
        "not replied: automatic replies are switched off (a daily limit of 0)",
        "لم يُرسل رد: الردود التلقائية متوقفة (حد يومي قدره 0)",
    ),
    (
        note(Note.QUIET_TIME, minutes=10),
        "not replied: it had an automatic reply less than 10 minutes ago",
        "لم يُرسل رد: تلقى ردًا تلقائيًا قبل أقل من 10 دقائق",
    ),
    (
        note(Note.QUIET_TIME, minutes=1),
        "not replied: it had an automatic reply less than 1 minute ago",
        "لم يُرسل رد: تلقى ردًا تلقائيًا قبل أقل من دقيقة",
    ),
    (
        note(Note.DAILY_LIMIT, count=5),
        "not replied: it had 5 automatic replies in the last 24 hours",
        "لم يُرسل رد: تلقى 5 ردود تلقائية في آخر 24 ساعة",
    ),
    (note(Note.REFUSED, reason=REFUSAL), f"not replied: {REFUSAL}", f"لم يُرسل رد: {REFUSAL}"),
    (
        note(Note.ADDED_TO, list="Support team"),
        "added to <bdi>Support team</bdi>",
        "أُضيف إلى <bdi>Support team</bdi>",
    ),
    (
        note(Note.ALREADY_ON, list="Support team"),
        "already on <bdi>Support team</bdi>",
        "موجود في <bdi>Support team</bdi> من قبل",
    ),
    (
        note(Note.REMOVED_FROM, list="Offers"),
        "removed from <bdi>Offers</bdi>",
        "أُزيل من <bdi>Offers</bdi>",
    ),
    (
        note(Note.NOT_ON, list="Offers"),
        "was not on <bdi>Offers</bdi>",
        "لم يكن في <bdi>Offers</bdi>",
    ),
    (
        note(Note.FORWARDED, address="shop@example.com"),
        "forwarded to <bdi>shop@example.com</bdi>",
        "حُوّل إلى <bdi>shop@example.com</bdi>",
    ),
    (
        note(Note.FORWARD_FAILED, address="shop@example.com", error="SMTPException"),
        "e-mail to <bdi>shop@example.com</bdi> failed: <bdi>SMTPException</bdi>",
        "تعذّر البريد الإلكتروني إلى <bdi>shop@example.com</bdi>: <bdi>SMTPException</bdi>",
    ),
    (note(Note.KEPT, text="something older"), "something older", "something older"),
]


def outcome_cells(page: str) -> dict[str, str]:
    """Each row's "What happened" cell, by the row's number, without the message link."""
    rows = re.findall(
        r'<tr data-phone="([^"]+)">.*?<td class="small" data-label="[^"]+">(.*?)(?: · <a |</td>)',
        page,
        re.DOTALL,
    )
    return dict(rows)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_keywords_page_shows_each_outcome_in_the_readers_language(
    admin_client, admin_user, account, language
):
    Preference.objects.update_or_create(user=admin_user, defaults={"language": language})
    expected = {}
    for n, (kept, english, arabic) in enumerate(SHOWN):
        phone = f"+9655000{n:04d}"
        AutoReply.objects.create(
            account=account, phone=phone, kind=AutoReply.Kind.RULE, notes=[kept]
        )
        expected[phone] = english if language == "en" else arabic
    two = "+96559999999"
    AutoReply.objects.create(
        account=account,
        phone=two,
        kind=AutoReply.Kind.RULE,
        notes=[note(Note.ADDED_TO, list="Support team"), note(Note.REPLIED)],
    )
    expected[two] = {
        "en": "added to <bdi>Support team</bdi>; replied",
        "ar": "أُضيف إلى <bdi>Support team</bdi>؛ أُرسل الرد",
    }[language]

    page = admin_client.get(reverse("keywords:list")).content.decode()

    assert outcome_cells(page) == expected


def test_a_kept_name_is_escaped_and_isolated_and_an_unknown_code_shown_as_kept():
    shown = shown_outcome(
        [
            note(Note.ADDED_TO, list="<b>Team</b>"),
            note(Note.REFUSED, reason="<i>no</i>"),
            {"code": "from_a_later_version"},
        ]
    )

    assert shown == (
        "added to <bdi>&lt;b&gt;Team&lt;/b&gt;</bdi>; not replied: &lt;i&gt;no&lt;/i&gt;; "
        "{&#x27;code&#x27;: &#x27;from_a_later_version&#x27;}"
    )


# Each kind of note the previous version kept in English, and the note migration 0003 makes.
OLD_NOTES = [
    ("replied", {"code": "replied"}),
    ("no reply set", {"code": "no_reply_set"}),
    ("no confirmation: the number had opted out already", {"code": "already_opted_out"}),
    (
        "no confirmation: the opt-out was confirmed already or lifted",
        {"code": "confirmed_already"},
    ),
    (
        "not replied: automatic replies are switched off (a daily limit of 0)",
        {"code": "switched_off"},
    ),
    (
        "not replied: it had an automatic reply less than 10 minutes ago",
        {"code": "quiet_time", "minutes": 10},
    ),
    (
        "not replied: it had an automatic reply less than 1 minute ago",
        {"code": "quiet_time", "minutes": 1},
    ),
    (
        "not replied: it had 5 automatic replies in the last 24 hours",
        {"code": "daily_limit", "count": 5},
    ),
    (
        "not replied: +96597119440 has opted out: the portal sends it nothing until it sends "
        "START again (or a Manager removes the opt-out).",
        {
            "code": "refused",
            "reason": "+96597119440 has opted out: the portal sends it nothing until it sends "
            "START again (or a Manager removes the opt-out).",
        },
    ),
    ("added to Support team", {"code": "added_to", "list": "Support team"}),
    ("already on Support team", {"code": "already_on", "list": "Support team"}),
    ("removed from Offers", {"code": "removed_from", "list": "Offers"}),
    ("was not on Offers", {"code": "not_on", "list": "Offers"}),
    ("forwarded to shop@example.com", {"code": "forwarded", "address": "shop@example.com"}),
    (
        "e-mail to shop@example.com failed: SMTPException",
        {"code": "forward_failed", "address": "shop@example.com", "error": "SMTPException"},
    ),
    ("something no version wrote", {"code": "kept", "text": "something no version wrote"}),
]


@pytest.mark.parametrize(("old", "expected"), OLD_NOTES)
def test_the_migration_reads_each_kind_of_old_note(old, expected):
    assert migration.notes_of(old) == [expected]
    assert migration.outcome_of([expected]) == old  # and writes it back when reversed


def test_the_migration_reads_every_note_of_an_outcome_and_its_notes_show_as_before():
    old = "added to Offers; not replied: it had 2 automatic replies in the last 24 hours"

    notes = migration.notes_of(old)

    assert notes == [
        {"code": "added_to", "list": "Offers"},
        {"code": "daily_limit", "count": 2},
    ]
    assert shown_outcome(notes) == (
        "added to <bdi>Offers</bdi>; not replied: it had 2 automatic replies in the last 24 hours"
    )


@pytest.mark.django_db(transaction=True)
def test_the_migration_rewrites_the_stored_rows(account):
    """`to_notes` on the rows of a database back at migration 0003 (both columns), as the
    migration runs it; then forward again, the outcome column gone."""
    executor = MigrationExecutor(connection)
    executor.migrate([BETWEEN])
    apps = executor.loader.project_state(BETWEEN).apps
    Historical = apps.get_model("keywords", "AutoReply")
    old = [
        "removed from Offers; no reply set",
        "not replied: it had an automatic reply less than 10 minutes ago",
        "something no version wrote",
    ]
    for n, outcome in enumerate(old):
        Historical.objects.create(
            account_id=account.pk, phone=f"+9655000000{n}", kind="rule", outcome=outcome
        )

    migration.to_notes(apps, None)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes("keywords"))
    notes = [AutoReply.objects.get(phone=f"+9655000000{n}").notes for n in range(len(old))]
    assert notes == [
        [{"code": "removed_from", "list": "Offers"}, {"code": "no_reply_set"}],
        [{"code": "quiet_time", "minutes": 10}],
        [{"code": "kept", "text": "something no version wrote"}],
    ]
