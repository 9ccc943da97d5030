from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import ProviderAccountFactory

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get(reverse("dashboard"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_operator_sees_accounts_but_cannot_add_one(operator_client):
    assert operator_client.get(reverse("providers:list")).status_code == 200
    assert operator_client.get(reverse("providers:create")).status_code == 403
    assert operator_client.post(reverse("providers:create"), {"name": "x"}).status_code == 403


def test_operator_cannot_edit_an_account_or_rotate_its_token(operator_client):
    account = ProviderAccountFactory()

    assert operator_client.get(reverse("providers:edit", args=[account.pk])).status_code == 403
    response = operator_client.post(reverse("providers:rotate_token", args=[account.pk]))
    assert response.status_code == 403


def test_manager_can_add_an_account(manager_client):
    assert manager_client.get(reverse("providers:create")).status_code == 200


def test_a_user_without_a_role_is_refused_the_accounts(client, outsider):
    client.force_login(outsider)

    assert client.get(reverse("providers:list")).status_code == 403


def test_the_welcome_tells_an_operator_to_ask_a_manager(operator_client):
    page = operator_client.get(reverse("dashboard")).content.decode()

    assert "Ask a Manager to add a provider account" in page
    assert reverse("providers:create") not in page


def test_the_welcome_offers_a_manager_the_account_form(manager_client):
    page = manager_client.get(reverse("dashboard")).content.decode()

    assert reverse("providers:create") in page


def test_role_groups_hold_their_permissions(manager, operator):
    assert manager.has_perm("providers.add_provideraccount")
    assert operator.has_perm("providers.view_provideraccount")
    assert not operator.has_perm("providers.add_provideraccount")
