"""The profile page's API keys section: create (secret shown once), revoke; htmx and plain."""

from __future__ import annotations

import pytest

from smsportal.api.models import ApiKey, hash_secret

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["operator", "manager", "superuser"])
def person(request):
    return request.getfixturevalue(request.param)


def test_every_role_sees_the_section_on_the_profile_page(client, person):
    client.force_login(person)
    page = client.get("/auth/profile/").content.decode()
    assert "API keys" in page
    assert "You have no API key yet." in page


def test_a_new_key_shows_its_secret_once_and_keeps_only_its_hash(client, operator):
    client.force_login(operator)
    answer = client.post(
        "/auth/profile/api-keys/",
        {"name": "Billing", "scopes": ["send", "read"], "allowed_addresses": "10.0.0.0/24\n"},
        headers={"HX-Request": "true"},
    )
    page = answer.content.decode()
    key = ApiKey.objects.get()
    start = page.index('id="new-api-key-secret">') + len('id="new-api-key-secret">')
    secret = page[start : page.index("</code>", start)]
    assert secret.startswith(f"smsp_{key.prefix}_")
    assert key.secret_hash == hash_secret(secret)
    assert key.scopes == ["read", "send"]
    assert key.allowed_addresses == "10.0.0.0/24"
    assert "<html" not in page  # the fragment only
    assert secret not in client.get("/auth/profile/").content.decode()


def test_without_javascript_the_whole_page_comes_back_with_the_secret(client, operator):
    client.force_login(operator)
    page = client.post(
        "/auth/profile/api-keys/", {"name": "HR", "scopes": ["read"]}
    ).content.decode()
    assert "<html" in page and 'id="new-api-key-secret"' in page


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"name": "X"}, "This field is required."),
        ({"name": "X", "scopes": ["root"]}, "Select a valid choice"),
        ({"name": "X", "scopes": ["read"], "allowed_addresses": "not-an-ip"}, "is not an IP"),
        ({"name": "X", "scopes": ["read"], "expires_on": "2000-01-01"}, "after today"),
    ],
)
def test_bad_key_forms_say_why_and_create_nothing(client, operator, data, error):
    client.force_login(operator)
    page = client.post("/auth/profile/api-keys/", data, headers={"HX-Request": "true"})
    assert error in page.content.decode()
    assert not ApiKey.objects.exists()


def test_a_second_key_of_the_same_name_is_refused(client, operator):
    ApiKey.issue(operator, "Billing", ["read"])
    client.force_login(operator)
    page = client.post("/auth/profile/api-keys/", {"name": "Billing", "scopes": ["read"]})
    assert "already have a key with this name" in page.content.decode()


def test_revoking_a_key_stops_it_and_shows_it_revoked(client, operator):
    key, _ = ApiKey.issue(operator, "Billing", ["read"])
    client.force_login(operator)
    page = client.post(f"/auth/profile/api-keys/{key.pk}/revoke/", headers={"HX-Request": "true"})
    key.refresh_from_db()
    assert key.is_revoked
    assert "revoked" in page.content.decode()


def test_nobody_revokes_another_users_key(client, operator, manager):
    key, _ = ApiKey.issue(operator, "Billing", ["read"])
    client.force_login(manager)
    assert client.post(f"/auth/profile/api-keys/{key.pk}/revoke/").status_code == 404
    key.refresh_from_db()
    assert not key.is_revoked
