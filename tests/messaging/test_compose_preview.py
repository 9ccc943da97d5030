"""The compose preview tells the truth per account: it counts as the chosen account sends, shows
Arabic and invisible characters faithfully, speaks plain words, and answers an impossible text at
once."""

from __future__ import annotations

import re
from decimal import Decimal
from unittest import mock

import pytest
from django.urls import reverse

from smsportal.messaging.models import Message
from tests.factories import ProviderAccountFactory, SenderIDFactory
from tests.support.compose import confirm_and_send

pytestmark = pytest.mark.django_db

URL = reverse("messaging:compose")


def form(account, **fields):
    return {
        "account": account.pk,
        "sender": "",
        "recipients": "+96550000001",
        "text": "Hello",
        "token": f"tok-{account.pk}-{fields.get('text', '')[:5]}",
        "action": "preview",
        **fields,
    }


def preview(client, account, text, **fields):
    response = client.post(URL, form(account, text=text, **fields), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response


@pytest.fixture
def iso(db):
    return ProviderAccountFactory(
        kind="smscentre", base_url="smpp://127.0.0.1:1", options={"system_type": "ISO"}
    )


@pytest.fixture
def smsc(db):
    return ProviderAccountFactory(kind="smscentre", base_url="smpp://127.0.0.1:1")


def test_an_iso_account_counts_latin_text_as_it_sends_it(operator_client, iso, smsc):
    text = "Crêpe © ® " * 10  # 100 characters: ê © ® are not GSM

    on_iso = preview(operator_client, iso, text)
    on_plain = preview(operator_client, smsc, text)

    assert on_iso.context["analysis"].segments == 1
    assert "Western European</strong>" in on_iso.content.decode()
    assert on_plain.context["analysis"].segments == 2  # UCS-2: 70 per SMS
    assert ">Unicode</strong>" in on_plain.content.decode()


def test_the_message_stores_what_the_account_will_send(operator_client, iso):
    text = "Crêpe © ® " * 10
    data = form(iso, text=text, token="tok-iso")

    confirm_and_send(operator_client, data)

    message = Message.objects.get(idempotency_key__endswith=":tok-iso")
    assert (message.encoding, message.segments) == ("Latin-1", 1)
    assert message.estimated_cost == iso.price_per_segment
    assert message.deliveries.get().segments == 1


def test_a_text_the_account_cannot_carry_is_shown_and_refused(operator_client, db):
    mail = ProviderAccountFactory(kind="kwtsms", options={"transport": "smtp"})
    text = "Line one\nmobile:96512345678"

    shown = preview(operator_client, mail, text).content.decode()
    sent = confirm_and_send(operator_client, form(mail, text=text, token="tok-m"))

    assert "cannot hold a line break" in shown
    assert "cannot hold a line break" in sent.content.decode()
    assert not Message.objects.exists()


def test_windows_1256_refuses_an_emoji_in_the_preview(operator_client, db):
    kwt = ProviderAccountFactory(kind="kwtsms", options={"arabic_lang": "2"})

    body = preview(operator_client, kwt, "مرحبا 😀").content.decode()

    assert "Windows-1256, which cannot carry 😀" in body


def test_arabic_keeps_its_direction_and_its_letters_joined(operator_client, smsc):
    body = preview(operator_client, smsc, "مرحبا بكم 12").content.decode()

    parts = re.findall(r'<div class="preview-text flex-grow-1" dir="auto">(.*?)</div>', body)
    assert parts == ["مرحبا بكم 12"]  # nothing inside the run: letters stay joined
    # The count sits outside the text's own direction, in its own element.
    assert re.search(r'dir="auto">مرحبا بكم 12</div>\s*<span[^>]*>12 characters</span>', body)
    typed = re.search(r'id="preview-typed">(.*?)</div>', body)
    assert typed is None  # nothing to point out: every character is plain Arabic or digits


def test_costly_characters_are_marked_by_runs_not_one_by_one(operator_client, smsc):
    body = preview(operator_client, smsc, "Hi مرحبا “x”").content.decode()

    typed = re.search(r'id="preview-typed">(.*?)</div>', body)[1]
    assert typed.count("<mark") == 3  # the Arabic word, and each curly quote
    assert ">مرحبا</mark>" in typed


@pytest.mark.parametrize(
    ("char", "name"),
    [
        ("\t", "tab"),
        ("\u00a0", "no-break space"),
        ("\u200b", "zero-width space"),
        ("\u200d", "zero-width joiner"),
        ("\u200f", "right-to-left mark"),
    ],
)
def test_invisible_characters_are_shown_by_name(operator_client, smsc, char, name):
    body = preview(operator_client, smsc, f"a{char}b").content.decode()

    assert f'title="U+{ord(char):04X}">{name}</span>' in body
    assert 'id="preview-typed"' in body


def test_the_preview_speaks_plain_words(operator_client, smsc):
    for text in ("Hello {world} €", "مرحبا 😀", "a" * 200):
        html = preview(operator_client, smsc, text).content.decode()
        body = re.sub(r"<[^>]+>", " ", html).lower()  # what a person reads
        for jargon in ("septet", "ucs-2", "gsm-7", "3gpp", "segment"):
            assert jargon not in body


def test_counts_use_thousands_separators(operator_client, db):
    big = ProviderAccountFactory(kind="kwtsms", max_parts=20)

    body = preview(operator_client, big, "a" * 2000).content.decode()

    assert 'id="preview-characters">2,000<' in body


def test_a_text_beyond_the_account_limit_is_answered_at_once(operator_client, smsc):
    smsc.max_parts = 3
    smsc.save()

    response = preview(operator_client, smsc, "a" * 200_000)

    body = response.content.decode()
    assert "The text has 200,000 characters" in body
    assert "at most 3 SMS per message, which holds no more than 459 characters" in body
    assert "analysis" not in response.context  # nothing was analysed or rendered per part
    assert len(body) < 1000


def test_a_unicode_text_is_held_to_the_unicode_limit(operator_client, smsc):
    """The shortcut for a text too long to analyse said "no more than 459 characters" (GSM-7's
    153 a part) for an Arabic text too: the limit is that of the alphabet the text needs."""
    smsc.max_parts = 3
    smsc.save()

    arabic = preview(operator_client, smsc, "مرحبا " * 40).content.decode()  # 240 characters
    plain = preview(operator_client, smsc, "a" * 240).content.decode()

    assert "The text has 240 characters" in arabic
    assert "at most 3 SMS per message, which holds no more than 201 characters" in arabic
    assert "The text has 240" not in plain  # 2 parts of GSM-7: analysed as usual
    assert 'id="preview-segments">2<' in plain


def test_the_live_preview_waits_for_a_pause_in_typing(operator_client, smsc):
    page = operator_client.get(URL).content.decode()

    trigger = re.search(r'id="preview"[^>]*hx-trigger="([^"]+)"', page, re.S)[1]
    assert "input changed delay:" in trigger
    assert "change delay:" in trigger
    assert 'hx-sync="this:replace"' in page


def test_arabic_letters_are_named_once_by_script_not_listed_one_by_one(operator_client, smsc):
    body = preview(operator_client, smsc, "مرحبا بكم “x” 😀").content.decode()

    chips = re.search(r'id="preview-non-gsm">(.*?)</div>', body, re.S)[1]
    assert chips.count("Arabic letters") == 1
    assert "م<" not in chips
    assert ">“<" in chips and ">😀<" in chips


def test_other_accounts_still_offer_their_sender_ids(operator_client, smsc):
    SenderIDFactory(account=smsc, value="PORTAL")

    options = operator_client.get(reverse("senders:options"), {"account": smsc.pk})

    assert 'value="PORTAL"' in options.content.decode()
    assert "cannot choose" not in options.content.decode()


def test_kalasms_offers_only_its_default_sender(operator_client, db):
    kala = ProviderAccountFactory(kind="kalasms")
    SenderIDFactory(account=kala, value="MYSHOP")

    options = operator_client.get(reverse("senders:options"), {"account": kala.pk})
    body = preview(operator_client, kala, "Hi").content.decode()
    refused = operator_client.post(URL, form(kala, sender="MYSHOP", action="send"))

    assert "cannot choose a sender per message" in options.content.decode()
    assert 'id="sender-help" hx-swap-oob="true"' in options.content.decode()
    assert 'value="MYSHOP"' not in options.content.decode()
    assert "sends from the account's default sender" in body
    assert "cannot choose a sender ID per message" in refused.content.decode()


def test_the_estimate_follows_the_accounts_count(operator_client, iso, smsc):
    iso.price_per_segment = smsc.price_per_segment = Decimal("1.5")
    iso.save()
    smsc.save()
    text = "ê" * 100

    assert preview(operator_client, iso, text).context["cost"] == Decimal("1.5")
    assert preview(operator_client, smsc, text).context["cost"] == Decimal("3.0")


def test_a_text_beyond_the_limit_is_refused_on_send_without_javascript(operator_client, smsc):
    response = operator_client.post(URL, form(smsc, text="a" * 50_000, action="send"))

    body = response.content.decode()
    assert "The text has 50,000 characters" in body
    assert 'id="confirm"' not in body


def test_no_list_chosen_runs_no_query_to_say_so(operator):
    from smsportal.contacts.models import ContactList
    from smsportal.messaging.forms import cleaned_lists

    nothing = ContactList.objects.none()
    with mock.patch("django.db.models.sql.compiler.SQLCompiler.as_sql") as compiled:
        assert cleaned_lists({"lists": nothing}) == []
        assert cleaned_lists({}) == [] and cleaned_lists({"lists": None}) == []
    compiled.assert_not_called()
    assert nothing._result_cache is None
    chosen = ContactList.objects.all()
    assert cleaned_lists({"lists": chosen}) is chosen


def test_an_operators_preview_reads_their_departments_once(operator_client, operator):
    """The lists accepted and the lists offered are both narrowed to the person's departments:
    one read of their department ids for both (contacts/list_choices.py), and the preview still
    offers a list of theirs and not another department's."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from smsportal.departments.models import Department
    from tests.factories import ContactListFactory

    mine = Department.objects.create(name="Mine")
    mine.members.add(operator)
    other = Department.objects.create(name="Other")
    ContactListFactory(name="Our list", department=mine)
    ContactListFactory(name="Their list", department=other)
    account = ProviderAccountFactory(kind="kwtsms")
    with CaptureQueriesContext(connection) as seen:
        preview(operator_client, account, "Hello")
    ids_read = [
        query["sql"]
        for query in seen.captured_queries
        if query["sql"].startswith('SELECT "departments_department"."id" AS "pk" FROM')
    ]
    assert len(ids_read) == 1, ids_read
    page = operator_client.get(URL, {"department": mine.pk}).content.decode()
    assert "Our list" in page and "Their list" not in page


def test_each_part_is_marked_as_alone_with_its_text_classified_once(operator_client):
    """The parts' HTML uses the whole text's invisible characters, classified once, and is what
    each part marked alone gives; each distinct part size is said once ("153 characters")."""
    from smsportal.messaging.views import compose

    account = ProviderAccountFactory(kind="kwtsms", max_parts=30)
    text = ("Pay\u00a0now\u200b [€] " * 40) + "mid\u2060word " * 30
    with (
        mock.patch.object(compose, "invisible_among", wraps=compose.invisible_among) as classify,
        mock.patch.object(compose, "characters", wraps=compose.characters) as sized,
    ):
        body = preview(operator_client, account, text).content.decode()
    classify.assert_called_once_with(set(text))  # the whole text's, not each part's again
    analysis = compose.analyse(text)
    assert sized.call_count == len(set(analysis.part_units)) == 2
    shown = re.findall(r'<div class="preview-text flex-grow-1" dir="auto">(.*?)</div>', body, re.S)
    assert shown == [compose.highlight(part) for part in analysis.parts]
    assert 'title="U+00A0">no-break space</span>' in shown[0]


def test_a_text_with_placeholders_and_no_recipient_says_what_to_add(operator_client, smsc):
    """The "Each recipient's own text" box stood empty until a number was typed."""
    body = preview(operator_client, smsc, "Hi {first_name|friend}", recipients="").content.decode()

    box = body[body.index('id="preview-personal"') :]
    assert "Add numbers or lists to see each recipient's own text." in box[: box.index("</div>")]

    with_one = preview(operator_client, smsc, "Hi {first_name|friend}").content.decode()
    assert 'id="preview-personal-empty"' not in with_one
    assert 'id="preview-distribution"' in with_one
