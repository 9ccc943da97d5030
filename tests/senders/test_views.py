from __future__ import annotations

import re

import pytest
from django.urls import reverse

from smsportal.senders.models import SenderID, SenderSource, SenderStatus
from tests.factories import ProviderAccountFactory, SenderIDFactory

pytestmark = pytest.mark.django_db


def test_operators_see_the_sender_ids(operator_client, provider):
    sender = SenderIDFactory(value="SHOPNAME")

    response = operator_client.get(reverse("senders:list"))

    assert response.status_code == 200
    assert sender.value in response.content.decode()
    assert "Make default" not in response.content.decode()


def test_the_list_filters_by_account_and_htmx_gets_only_the_table(manager_client, provider):
    mine = SenderIDFactory(value="MINE")
    SenderIDFactory(value="THEIRS")
    url = reverse("senders:list") + f"?account={mine.account_id}"

    response = manager_client.get(url, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert "MINE" in html and "THEIRS" not in html
    assert "<html" not in html and 'id="sender-table"' in html


def test_an_empty_list_says_what_to_do(manager_client, provider):
    response = manager_client.get(reverse("senders:list"))
    assert "No sender IDs" in response.content.decode()


def test_the_list_offers_sync_only_for_providers_that_list_senders(manager_client, provider):
    ProviderAccountFactory(name="Lister")
    provider.set_capabilities(sender_ids=False)
    assert "Sync Lister" not in manager_client.get(reverse("senders:list")).content.decode()
    provider.set_capabilities(sender_ids=True)
    assert "Sync Lister" in manager_client.get(reverse("senders:list")).content.decode()


def test_a_manager_adds_a_sender_id(manager_client, provider):
    account = ProviderAccountFactory(kind="isms")

    response = manager_client.post(
        reverse("senders:create"),
        {"account": account.pk, "value": "6012345678", "status": "pending", "note": "for promos"},
    )

    assert response.status_code == 302
    sender = SenderID.objects.get(account=account)
    assert (sender.value, sender.kind, sender.status, sender.source) == (
        "6012345678",
        "numeric",
        SenderStatus.PENDING,
        SenderSource.STAFF,
    )


def test_an_invalid_sender_is_refused_with_the_rule_and_the_input_kept(manager_client, provider):
    account = ProviderAccountFactory(kind="isms")

    response = manager_client.post(
        reverse("senders:create"),
        {"account": account.pk, "value": "60123456789012", "status": "active"},
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "ISMS takes a numeric sender ID of at most 13 digits" in html
    assert 'value="60123456789012"' in html
    assert not SenderID.objects.exists()


def test_the_same_sender_twice_on_one_account_is_refused(manager_client, provider):
    sender = SenderIDFactory(value="TWICE")

    response = manager_client.post(
        reverse("senders:create"),
        {"account": sender.account_id, "value": "TWICE", "status": "active"},
    )

    assert "already has this sender ID" in response.content.decode()


def test_a_manager_edits_a_sender_but_not_its_account(manager_client, provider):
    sender = SenderIDFactory(value="OLD")
    other = ProviderAccountFactory()

    manager_client.post(
        reverse("senders:edit", args=[sender.pk]),
        {"account": other.pk, "value": "NEW", "status": "rejected", "note": "telco said no"},
    )

    sender.refresh_from_db()
    assert (sender.value, sender.status, sender.account_id) == (
        "NEW",
        SenderStatus.REJECTED,
        sender.account_id,
    )
    assert sender.account_id != other.pk


def test_the_value_of_a_synced_sender_cannot_be_renamed(manager_client, provider):
    sender = SenderIDFactory(value="FROMPROV", source=SenderSource.SYNCED)

    manager_client.post(
        reverse("senders:edit", args=[sender.pk]),
        {"value": "RENAMED", "status": "active", "note": "x"},
    )

    sender.refresh_from_db()
    assert sender.value == "FROMPROV" and sender.note == "x"


def test_a_manager_sets_the_default_and_retires(manager_client, provider):
    sender = SenderIDFactory()

    manager_client.post(reverse("senders:set_default", args=[sender.pk]))
    sender.refresh_from_db()
    assert sender.is_default

    manager_client.post(reverse("senders:retire", args=[sender.pk]))
    sender.refresh_from_db()
    assert sender.status == SenderStatus.RETIRED and not sender.is_default


def test_a_manager_syncs_and_sees_the_summary(manager_client, provider):
    account = ProviderAccountFactory(kind="kwtsms")
    provider.set_capabilities(sender_ids=True)
    provider.sender_list = ["KWT-MESSAGE"]

    response = manager_client.post(reverse("senders:sync", args=[account.pk]), follow=True)

    assert "1 new" in response.content.decode()
    assert SenderID.objects.filter(account=account, value="KWT-MESSAGE").exists()


def test_a_failed_sync_is_shown_as_an_error(manager_client, provider):
    from smsportal.providers.backends.base import TransientError

    account = ProviderAccountFactory()
    provider.set_capabilities(sender_ids=True)
    provider.sender_error = TransientError("KwtSMS did not answer in 10 seconds.")

    response = manager_client.post(reverse("senders:sync", args=[account.pk]), follow=True)

    assert "did not answer in 10 seconds" in response.content.decode()


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("senders:create", []),
        ("senders:edit", ["sender"]),
        ("senders:set_default", ["sender"]),
        ("senders:retire", ["sender"]),
        ("senders:sync", ["account"]),
    ],
)
def test_operators_cannot_change_sender_ids(operator_client, provider, name, args):
    sender = SenderIDFactory()
    values = {"sender": sender.pk, "account": sender.account_id}

    response = operator_client.post(reverse(name, args=[values[a] for a in args]))

    assert response.status_code == 403


def test_outsiders_cannot_see_sender_ids(client, outsider):
    client.force_login(outsider)
    assert client.get(reverse("senders:list")).status_code == 403


def test_options_list_the_accounts_usable_senders_default_selected(operator_client, provider):
    account = ProviderAccountFactory()
    SenderIDFactory(account=account, value="AAA")
    SenderIDFactory(account=account, value="DEF", is_default=True)
    SenderIDFactory(account=account, value="GONE", status=SenderStatus.RETIRED)
    SenderIDFactory(value="ELSEWHERE")

    html = operator_client.get(
        reverse("senders:options"), {"account": account.pk}, headers={"HX-Request": "true"}
    ).content.decode()

    assert '<option value="DEF" selected>' in html
    assert '<option value="AAA">' in html
    assert "GONE" not in html and "ELSEWHERE" not in html
    assert html.index("DEF") < html.index("AAA")


def test_options_keep_the_providers_default_first_when_no_sender_is_marked_default(
    operator_client, provider
):
    """Changing the account on the compose page gets these options: an added ID that is not
    the default must not take the provider's default sender away."""
    account = ProviderAccountFactory(name="ISMS")
    SenderIDFactory(account=account, value="WalkCo")

    html = operator_client.get(
        reverse("senders:options"), {"account": account.pk}, headers={"HX-Request": "true"}
    ).content.decode()

    assert html.index('<option value="" selected>The provider\'s default sender</option>') < (
        html.index('<option value="WalkCo">WalkCo</option>')
    )
    assert "has no active sender IDs" not in html


def test_options_without_senders_say_so(operator_client, provider):
    account = ProviderAccountFactory(name="Bare")
    html = operator_client.get(reverse("senders:options"), {"account": account.pk}).content
    assert b'<option value="" selected>The provider\'s default sender</option>' in html
    assert b"Bare has no active sender IDs: the provider's default sender is used." in html
    assert b"Choose an account first" in operator_client.get(reverse("senders:options")).content


def test_edit_does_not_offer_retired_and_refuses_it(manager_client, provider):
    """Retiring goes through Retire, whose confirmation shows what still uses the sender ID:
    Edit, which says nothing of it, must not retire (nor drop the account's default)."""
    sender = SenderIDFactory(value="ACME", is_default=True, note="main")
    url = reverse("senders:edit", args=[sender.pk])

    page = manager_client.get(url).content.decode()
    response = manager_client.post(
        url, {"value": "ACME", "status": SenderStatus.RETIRED, "note": "gone"}
    )

    assert 'value="retired"' not in page
    assert "To retire it, use Retire on the list" in page
    assert response.status_code == 200
    assert "To retire it, use Retire on the list" in response.content.decode()
    sender.refresh_from_db()
    assert (sender.status, sender.is_default, sender.note) == (SenderStatus.ACTIVE, True, "main")


def test_a_new_sender_cannot_be_added_retired(manager_client, provider):
    account = ProviderAccountFactory()

    response = manager_client.post(
        reverse("senders:create"), {"account": account.pk, "value": "ACME", "status": "retired"}
    )

    assert response.status_code == 200
    assert not SenderID.objects.filter(value="ACME").exists()


def test_a_retired_sender_keeps_its_status_on_edit_and_can_be_brought_back(
    manager_client, provider
):
    sender = SenderIDFactory(value="ACME", status=SenderStatus.RETIRED)
    url = reverse("senders:edit", args=[sender.pk])

    page = manager_client.get(url).content.decode()
    assert re.search(r'<option value="retired"[^>]*selected', page)

    manager_client.post(url, {"value": "ACME", "status": SenderStatus.RETIRED, "note": "old"})
    sender.refresh_from_db()
    assert (sender.status, sender.note) == (SenderStatus.RETIRED, "old")

    manager_client.post(url, {"value": "ACME", "status": SenderStatus.ACTIVE, "note": "back"})
    sender.refresh_from_db()
    assert sender.status == SenderStatus.ACTIVE


def test_the_list_turns_into_cards_on_a_phone(manager_client, provider):
    SenderIDFactory(value="ACME")

    html = manager_client.get(reverse("senders:list")).content.decode()

    assert "table-cards" in html
    assert 'class="card-lead"' in html
    assert 'data-label="Account"' in html and 'data-label="Status"' in html
