"""The admin site sends whom it refuses to its log-in address, which leads to the portal's one
log-in page: someone logged out logs in there; someone logged in whose account has no access
(an Operator, a Manager: not staff) is told so, with the ways on, never a bare log-in form."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_a_logged_in_user_without_access_is_told_so_not_shown_a_log_in_form(operator_client):
    response = operator_client.get("/admin/", follow=True)

    assert response.status_code == 403
    page = response.content.decode()
    assert "You are logged in as <bdi>operator</bdi>" in page
    assert "has no access to the administration site" in page
    assert 'id="id_password"' not in page
    assert f'href="{reverse("dashboard")}"' in page  # back to the portal
    assert 'name="next" value="/auth/login/?next=%2Fadmin%2F"' in page  # log in as another


def test_log_in_as_someone_else_logs_out_and_comes_back_to_the_admin(operator_client):
    UserFactory(username="root", is_staff=True, is_superuser=True)
    operator_client.get("/admin/", follow=True)

    out = operator_client.post(reverse("logout"), {"next": "/auth/login/?next=%2Fadmin%2F"})
    assert out["Location"] == "/auth/login/?next=%2Fadmin%2F"
    assert "_auth_user_id" not in operator_client.session
    back = operator_client.post(
        out["Location"], {"username": "root", "password": PASSWORD, "next": "/admin/"}
    )

    assert back["Location"] == "/admin/"
    assert operator_client.get("/admin/").status_code == 200


def test_a_manager_is_refused_the_same_way(manager_client):
    response = manager_client.get("/admin/contacts/contact/", follow=True)

    assert response.status_code == 403
    assert "has no access to the administration site" in response.content.decode()


def test_an_unsafe_next_is_not_carried_into_the_log_in_as_someone_else(operator_client):
    page = operator_client.get("/admin/login/?next=https://evil.example/").content.decode()

    assert 'name="next" value="/auth/login/?next=%2Fadmin%2F"' in page


def test_someone_logged_out_still_goes_to_the_portal_log_in(client):
    response = client.get("/admin/", follow=True)

    assert response.redirect_chain[-1][0] == reverse("login") + "?next=%2Fadmin%2F"
    assert 'id="id_password"' in response.content.decode()
