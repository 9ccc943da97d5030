from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from smsportal.providers.backends.base import AuthenticationError
from smsportal.senders.models import SenderID, SenderSource, SenderStatus
from smsportal.senders.selectors import active_sender_ids, default_sender_id
from smsportal.senders.services import retire_sender, set_default_sender
from tests.factories import ProviderAccountFactory, SenderIDFactory

pytestmark = pytest.mark.django_db


def test_sync_adds_what_the_provider_reports(provider):
    account = ProviderAccountFactory(kind="kwtsms")
    provider.set_capabilities(sender_ids=True)
    provider.sender_list = ["KWT-MESSAGE", "96597119440", "KWT-MESSAGE"]

    result = SenderID.objects.sync(account)

    assert result.added == ["KWT-MESSAGE", "96597119440"]
    rows = {s.value: s for s in SenderID.objects.filter(account=account)}
    assert rows["KWT-MESSAGE"].kind == "alphanumeric"
    assert rows["96597119440"].kind == "numeric"
    assert {s.source for s in rows.values()} == {SenderSource.SYNCED}
    assert all(s.is_usable and s.last_seen_at for s in rows.values())


def test_sync_marks_disappeared_senders_and_never_deletes_them(provider):
    account = ProviderAccountFactory()
    provider.set_capabilities(sender_ids=True)
    gone = SenderIDFactory(account=account, value="OLDNAME")
    provider.sender_list = ["NEWNAME"]

    result = SenderID.objects.sync(account)

    gone.refresh_from_db()
    assert result.missing == ["OLDNAME"]
    assert gone.missing_since is not None
    assert gone.status == SenderStatus.ACTIVE  # its history is untouched
    assert list(active_sender_ids(account).values_list("value", flat=True)) == ["NEWNAME"]


def test_a_sender_listed_again_is_usable_again(provider):
    account = ProviderAccountFactory()
    provider.set_capabilities(sender_ids=True)
    provider.sender_list = []
    sender = SenderIDFactory(account=account, value="BACK")
    SenderID.objects.sync(account)
    provider.sender_list = ["BACK"]

    result = SenderID.objects.sync(account)

    sender.refresh_from_db()
    assert result.reappeared == ["BACK"]
    assert sender.missing_since is None and sender.is_usable


def test_sync_activates_a_pending_sender_the_provider_now_lists_but_not_a_retired_one(provider):
    account = ProviderAccountFactory()
    provider.set_capabilities(sender_ids=True)
    pending = SenderIDFactory(account=account, value="PEND", status=SenderStatus.PENDING)
    retired = SenderIDFactory(account=account, value="RET", status=SenderStatus.RETIRED)
    provider.sender_list = ["PEND", "RET"]

    SenderID.objects.sync(account)

    pending.refresh_from_db()
    retired.refresh_from_db()
    assert pending.status == SenderStatus.ACTIVE
    assert retired.status == SenderStatus.RETIRED


def test_a_failed_sync_changes_nothing(provider):
    account = ProviderAccountFactory()
    provider.set_capabilities(sender_ids=True)
    sender = SenderIDFactory(account=account)
    provider.sender_error = AuthenticationError("Wrong username or password.", code="ERR")

    with pytest.raises(AuthenticationError):
        SenderID.objects.sync(account)

    sender.refresh_from_db()
    assert sender.missing_since is None


def test_an_account_has_one_default_sender(provider):
    account = ProviderAccountFactory()
    first = SenderIDFactory(account=account)
    second = SenderIDFactory(account=account)

    set_default_sender(first)
    set_default_sender(second)

    assert default_sender_id(account) == second
    assert SenderID.objects.filter(account=account, is_default=True).count() == 1


def test_the_database_refuses_a_second_default():
    account = ProviderAccountFactory()
    SenderIDFactory(account=account, is_default=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        SenderIDFactory(account=account, is_default=True)


def test_kalasms_is_told_the_default_choice(provider):
    account = ProviderAccountFactory(kind="kalasms")
    provider.set_capabilities(default_sender_choice=True)
    name = SenderIDFactory(account=account, value="KALA", kind="alphanumeric")
    number = SenderIDFactory(account=account, value="96550000000", kind="numeric")

    set_default_sender(name)
    assert provider.default_choice == "1"
    set_default_sender(number)
    assert provider.default_choice == "0"


def test_when_the_provider_refuses_the_default_nothing_changes(provider):
    account = ProviderAccountFactory(kind="kalasms")
    provider.set_capabilities(default_sender_choice=True)
    current = SenderIDFactory(account=account, is_default=True)
    other = SenderIDFactory(account=account)
    provider.sender_error = AuthenticationError("Wrong password.")

    with pytest.raises(AuthenticationError):
        set_default_sender(other)

    assert default_sender_id(account) == current


def test_a_retired_sender_is_no_longer_offered_nor_default(provider):
    account = ProviderAccountFactory()
    sender = SenderIDFactory(account=account, is_default=True)

    retire_sender(sender)

    sender.refresh_from_db()
    assert sender.status == SenderStatus.RETIRED and not sender.is_default
    assert not active_sender_ids(account).exists()
    with pytest.raises(ValueError, match="not active"):
        set_default_sender(sender)


def test_the_selector_offers_only_the_accounts_usable_senders_default_first():
    account = ProviderAccountFactory()
    other = ProviderAccountFactory()
    SenderIDFactory(account=account, value="AAA")
    SenderIDFactory(account=account, value="ZZZ", is_default=True)
    SenderIDFactory(account=account, value="PEND", status=SenderStatus.PENDING)
    SenderIDFactory(account=other, value="OTHER")

    assert [s.value for s in active_sender_ids(account)] == ["ZZZ", "AAA"]
