"""Replies with an opt-out keyword put the number on the opt-out list; START takes it off."""

from __future__ import annotations

import pytest

from smsportal.contacts.models import OptOut
from tests.factories import ProviderAccountFactory

pytestmark = pytest.mark.django_db


def incoming(client, account, text, sender="60123456789"):
    return client.get(
        f"/hooks/isms/{account.webhook_token}/incoming",
        {"ShortCode": "63633", "Sender": sender, "ContentType": "1", "Msg": text},
    )


@pytest.mark.parametrize("text", ["STOP", " stop.", "Unsubscribe please"])
def test_an_opt_out_keyword_opts_the_sender_out(client, text):
    account = ProviderAccountFactory(kind="isms")
    assert incoming(client, account, text).status_code == 200
    optout = OptOut.objects.get()
    assert (optout.phone, optout.reason) == ("+60123456789", "keyword")
    assert optout.note.startswith("keyword ")


def test_the_arabic_keyword_works_in_ucs2(client):
    account = ProviderAccountFactory(kind="isms")
    hexed = "إلغاء".encode("utf-16-be").hex().upper()
    client.get(
        f"/hooks/isms/{account.webhook_token}/incoming",
        {"ShortCode": "63633", "Sender": "60123456789", "ContentType": "2", "Msg": hexed},
    )
    assert OptOut.objects.filter(phone="+60123456789").exists()


def test_start_opts_back_in_and_other_words_change_nothing(client):
    account = ProviderAccountFactory(kind="isms")
    incoming(client, account, "STOP")
    incoming(client, account, "stopping by later?")  # not the keyword: the first word differs
    assert OptOut.objects.count() == 1
    incoming(client, account, "START")
    assert not OptOut.objects.exists()


@pytest.mark.parametrize(
    "text",
    [
        "الغاء",  # no hamza under the alef
        "إلغـاء",  # stretched by tatweel
        "إِلْغَاء",  # with its vowel marks
        "إلغاء،",  # followed by an Arabic comma
        "ﺇﻟﻐﺎﺀ",  # presentation forms, as some handsets send them
    ],
)
def test_arabic_opt_out_keywords_match_whatever_their_spelling(client, text, settings):
    settings.OPT_OUT_KEYWORDS = ["STOP", "إلغاء"]  # only the hamza spelling is configured
    account = ProviderAccountFactory(kind="isms")
    hexed = text.encode("utf-16-be").hex().upper()
    client.get(
        f"/hooks/isms/{account.webhook_token}/incoming",
        {"ShortCode": "63633", "Sender": "60123456789", "ContentType": "2", "Msg": hexed},
    )
    assert OptOut.objects.filter(phone="+60123456789").exists()


def test_an_arabic_word_that_only_starts_like_the_keyword_changes_nothing(client, settings):
    settings.OPT_OUT_KEYWORDS = ["إلغاء"]
    account = ProviderAccountFactory(kind="isms")
    hexed = "إلغاءات".encode("utf-16-be").hex().upper()
    client.get(
        f"/hooks/isms/{account.webhook_token}/incoming",
        {"ShortCode": "63633", "Sender": "60123456789", "ContentType": "2", "Msg": hexed},
    )
    assert not OptOut.objects.exists()
