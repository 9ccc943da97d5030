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


def test_the_roles_are_set_once_per_migrate_after_every_apps_permissions(django_assert_num_queries):
    # post_migrate comes once for each app (and again after every test that empties the
    # database): the roles are set at the last app's, when every permission exists.
    from django.apps import apps
    from django.contrib.auth.models import Group
    from django.core.management.sql import emit_post_migrate_signal

    from smsportal.core.roles import (
        MANAGER,
        ROLE_PERMISSIONS,
        last_app_with_models,
        permissions_for,
        sync_role_permissions,
    )

    Group.objects.get(name=MANAGER).permissions.clear()
    for config in apps.get_app_configs():
        if config is not last_app_with_models():
            with django_assert_num_queries(0):
                sync_role_permissions(app_config=config)
    assert not Group.objects.get(name=MANAGER).permissions.exists()

    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")

    held = set(Group.objects.get(name=MANAGER).permissions.all())
    assert held == set(permissions_for(ROLE_PERMISSIONS[MANAGER]))
    assert any(p.codename == "add_provideraccount" for p in held)
