from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from smsportal.providers.models import ProviderAccount
from tests.factories import ProviderAccountFactory

pytestmark = pytest.mark.django_db

SECRET = "pa55-w0rd-never-shown"


def test_the_password_is_encrypted_at_rest():
    account = ProviderAccountFactory(password=SECRET)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT password_ciphertext FROM providers_provideraccount WHERE id = %s", [account.pk]
        )
        (raw,) = cursor.fetchone()
    assert SECRET not in raw
    assert ProviderAccount.objects.get(pk=account.pk).password == SECRET


def test_a_manager_creates_an_account_and_the_password_is_never_rendered(manager_client):
    response = manager_client.post(
        reverse("providers:create"),
        {
            "name": "Main KwtSMS",
            "kind": "kwtsms",
            "username": "acme",
            "password": SECRET,
            "price_per_segment": "0.0100",
            "max_parts": "5",
            "is_active": "on",
        },
        follow=True,
    )

    assert response.status_code == 200
    account = ProviderAccount.objects.get(name="Main KwtSMS")
    assert account.password == SECRET
    assert SECRET not in response.content.decode()
    edit = manager_client.get(reverse("providers:edit", args=[account.pk])).content.decode()
    assert SECRET not in edit
    assert account.password_ciphertext not in edit


def test_saving_with_an_empty_password_keeps_the_current_one(manager_client):
    account = ProviderAccountFactory(password=SECRET)

    manager_client.post(
        reverse("providers:edit", args=[account.pk]),
        {
            "name": account.name,
            "kind": account.kind,
            "username": "renamed",
            "password": "",
            "price_per_segment": "0.02",
            "max_parts": "3",
        },
    )

    account.refresh_from_db()
    assert account.username == "renamed"
    assert account.password == SECRET


def test_a_new_account_needs_a_password(manager_client):
    response = manager_client.post(
        reverse("providers:create"),
        {"name": "x", "kind": "isms", "username": "u", "price_per_segment": "0", "max_parts": "1"},
    )

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not ProviderAccount.objects.exists()


def test_a_malformed_ip_allow_list_says_which_line_is_wrong(manager_client):
    response = manager_client.post(
        reverse("providers:create"),
        {
            "name": "x",
            "kind": "isms",
            "username": "u",
            "password": "p",
            "price_per_segment": "0",
            "max_parts": "1",
            "ip_allowlist": "210.5.41.23\nnot-an-ip",
        },
    )

    assert "“not-an-ip” is not an IP address or network." in response.content.decode()


def test_rotating_the_webhook_token_keeps_the_previous_one_until_finished(manager_client):
    account = ProviderAccountFactory()
    first = account.webhook_token

    manager_client.post(reverse("providers:rotate_token", args=[account.pk]))
    account.refresh_from_db()
    assert account.previous_webhook_token == first
    assert account.webhook_token != first

    manager_client.post(reverse("providers:finish_rotation", args=[account.pk]))
    account.refresh_from_db()
    assert account.previous_webhook_token == ""


@pytest.mark.django_db
def test_demo_accounts_price_a_part_at_the_credit_the_sandbox_charges_for_it():
    from smsportal.providers.demo import create_demo_accounts

    create_demo_accounts()
    assert {a.price_per_segment for a in ProviderAccount.objects.all()} == {Decimal("1")}
