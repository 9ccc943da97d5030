"""The account form and page: each backend's options, the address rules, Test connection, the
callback addresses with their token rotation and IP allow-list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django import forms
from django.urls import reverse
from django.utils import timezone

from smsportal.providers import crypto, endpoints
from smsportal.providers.backends.base import SecretField
from smsportal.providers.backends.kwtsms import KwtSMSBackend
from smsportal.providers.forms import ProviderAccountForm
from smsportal.providers.models import ProviderAccount
from smsportal.providers.sandbox.world import demo_password
from tests.factories import ProviderAccountFactory

pytestmark = pytest.mark.django_db

SECRET = "pa55-w0rd-never-shown"


def option_defaults(kind: str) -> dict:
    """What the empty form offers for `kind`'s options (a browser would submit these)."""
    form = ProviderAccountForm()
    data = {}
    for name in form.option_fields[kind]:
        value = form[name].value()
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = value
    return data


def post_data(kind: str, **extra) -> dict:
    return {
        **option_defaults(kind),
        "name": f"My {kind}",
        "kind": kind,
        "username": "acme",
        "password": SECRET,
        "price_per_segment": "0.01",
        "max_parts": "5",
        "is_active": "on",
        **extra,
    }


@pytest.fixture(autouse=True)
def no_dns(monkeypatch):
    """Names resolve from this table only (the tests never ask a real resolver)."""
    table = {
        "www.kwtsms.com": ["104.21.5.9"],
        "sms.example.com": ["93.184.216.34"],
        "intranet.example.com": ["10.1.2.3"],
    }

    def resolve(host):
        if host not in table:
            raise OSError("not found")
        return table[host]

    monkeypatch.setattr(endpoints, "resolve", resolve)


# --- point 1: each backend's own options ----------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "extra", "options"),
    [
        (
            "kwtsms",
            {"kwtsms__transport": "smtp", "kwtsms__arabic_lang": "2"},
            {"transport": "smtp", "arabic_lang": "2"},
        ),
        ("kalasms", {"kalasms__use_rssendsms": "on"}, {"use_rssendsms": True}),
        ("isms", {"isms__use_unicode_page": "on"}, {"use_unicode_page": True}),
        (
            "smscentre",
            {"base_url": "smpp://127.0.0.1:2775", "smscentre__system_type": "ISO"},
            {"system_type": "ISO"},
        ),
    ],
)
def test_a_manager_sets_every_option_of_a_kind_from_the_form(manager_client, kind, extra, options):
    response = manager_client.post(reverse("providers:create"), post_data(kind, **extra))

    assert response.status_code == 302, response.content.decode()[:3000]
    account = ProviderAccount.objects.get()
    assert {k: account.options[k] for k in options} == options
    page = manager_client.get(account.get_absolute_url()).content.decode()
    assert 'id="account-options"' in page


def test_only_the_chosen_kinds_options_are_stored():
    form = ProviderAccountForm(
        post_data(
            "kalasms",
            kalasms__use_rssendsms="on",
            kwtsms__transport="nonsense",
            isms__use_unicode_page="on",
        )
    )

    assert form.is_valid(), form.errors
    assert form.save().options == {"use_rssendsms": True}


def test_a_bad_option_value_is_refused_with_a_clear_message(manager_client):
    response = manager_client.post(
        reverse("providers:create"), post_data("kwtsms", kwtsms__arabic_lang="9")
    )

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not ProviderAccount.objects.exists()


def test_the_edit_form_shows_the_stored_options():
    account = ProviderAccountFactory(kind="kwtsms", options={"arabic_lang": "4"})

    form = ProviderAccountForm(instance=account)

    assert form["kwtsms__arabic_lang"].value() == "4"


def test_a_field_a_backend_adds_appears_in_the_form_and_the_admin(monkeypatch, admin_client):
    fields = KwtSMSBackend.settings_fields()
    extra = {
        "relay_name": forms.CharField(label="Relay name", required=False),
        "relay_secret": SecretField(label="Relay secret"),
    }
    monkeypatch.setattr(KwtSMSBackend, "settings_fields", classmethod(lambda cls: fields | extra))
    stored = crypto.encrypt("relay-secret")
    account = ProviderAccountFactory(kind="kwtsms", options={"relay_secret": stored})

    page = admin_client.get(reverse("admin:providers_provideraccount_change", args=[account.pk]))
    html = page.content.decode()
    assert 'name="kwtsms__relay_name"' in html
    assert 'name="kwtsms__relay_secret"' in html
    assert stored not in html and "relay-secret" not in html
    form = ProviderAccountForm(
        post_data("kwtsms", kwtsms__relay_name="north", password=""), instance=account
    )
    assert form.is_valid(), form.errors
    saved = form.save().options
    assert saved["relay_name"] == "north"
    assert saved["relay_secret"] == stored  # empty keeps the stored secret
    form = ProviderAccountForm(
        post_data("kwtsms", kwtsms__relay_secret="new-one", password=""), instance=account
    )
    assert form.is_valid(), form.errors
    assert crypto.decrypt(form.save().options["relay_secret"]) == "new-one"  # encrypted at rest


def test_the_admin_saves_a_kinds_options(admin_client):
    response = admin_client.post(
        reverse("admin:providers_provideraccount_add"),
        post_data("isms", isms__use_unicode_page="on", ip_allowlist=""),
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    assert ProviderAccount.objects.get().options == {"use_unicode_page": True}


# --- point 4: the address -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "url", "problem"),
    [
        ("kwtsms", "ftp://www.kwtsms.com/API/", "must start with http:// or https://"),
        ("kwtsms", "http://10.0.0.5/API/", "is not a public address"),
        ("kwtsms", "http://169.254.169.254/latest/", "is not a public address"),
        ("kwtsms", "http://[::1]:8000/", "is not a public address"),
        ("kwtsms", "http://intranet.example.com/", "is not a public address"),
        ("kwtsms", "http://nowhere.invalid/", "cannot be found"),
        ("kwtsms", "http://user:pw@www.kwtsms.com/API/", "not in the address"),
        ("kwtsms", "smpp://www.kwtsms.com:2775", "must start with http"),
        ("smscentre", "http://sms.example.com/", "must start with smpp://"),
        ("smscentre", "smpp://10.0.0.7:2775", "is not a public address"),
        ("isms", "http://www.kwtsms.com:notaport/", "This is not an address"),
    ],
)
def test_the_address_must_be_a_public_host_of_the_right_scheme(kind, url, problem):
    form = ProviderAccountForm(post_data(kind, base_url=url))

    assert not form.is_valid()
    assert problem in " ".join(form.errors["base_url"])


@pytest.mark.parametrize(
    ("kind", "url"),
    [
        ("kwtsms", "https://www.kwtsms.com/API/"),
        ("isms", "http://93.184.216.34/websmsapi/"),
        ("kwtsms", "http://127.0.0.1:8001/API/"),  # the sandbox, allowed by default
        ("kalasms", "http://localhost:8001/core/smsdo.aspx"),
        ("smscentre", "smpp://sms.example.com:2775"),
    ],
)
def test_public_hosts_and_the_allowed_private_ones_are_accepted(kind, url):
    assert ProviderAccountForm(post_data(kind, base_url=url)).is_valid()


def test_the_private_host_list_is_a_setting(settings):
    settings.PROVIDER_PRIVATE_HOSTS = ["10.0.0.5"]

    assert ProviderAccountForm(post_data("kwtsms", base_url="http://10.0.0.5/API/")).is_valid()
    assert not ProviderAccountForm(post_data("kwtsms", base_url="http://127.0.0.1/")).is_valid()


def test_moving_the_address_to_another_host_needs_the_password_again():
    account = ProviderAccountFactory(
        kind="kwtsms", base_url="https://www.kwtsms.com/API/", password=SECRET
    )
    data = post_data("kwtsms", base_url="https://sms.example.com/API/", password="")

    form = ProviderAccountForm(data, instance=account)
    assert not form.is_valid()
    assert "type the password again" in " ".join(form.errors["password"])

    assert ProviderAccountForm({**data, "password": SECRET}, instance=account).is_valid()


def test_changing_only_the_path_keeps_the_password():
    account = ProviderAccountFactory(
        kind="kwtsms", base_url="https://www.kwtsms.com/API/", password=SECRET
    )
    data = post_data("kwtsms", base_url="https://www.kwtsms.com/v2/API/", password="")

    assert ProviderAccountForm(data, instance=account).is_valid()


def test_emptying_the_address_to_the_real_service_is_a_host_change():
    account = ProviderAccountFactory(kind="kwtsms", base_url="http://127.0.0.1:8001/API/")

    form = ProviderAccountForm(post_data("kwtsms", base_url="", password=""), instance=account)

    assert "password" in form.errors


# --- point 2: Test connection ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("kwtsms", "credits left of"),
        ("isms", "used to date"),
        ("kalasms", "credits left"),
        ("intellisoftware", "accepted the username and password"),
        ("smscentre", "accepted the bind as demo-smscentre"),
    ],
)
def test_test_connection_says_what_the_provider_answered(
    manager_client, sandbox, sandbox_account, kind, words
):
    account = sandbox_account(kind)
    sent_before = len(sandbox.world.received)

    response = manager_client.post(
        reverse("providers:test_connection", args=[account.pk]), headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert "Connection works." in html
    assert words in html
    assert len(sandbox.world.received) == sent_before  # nothing was sent


@pytest.mark.parametrize("kind", ["kwtsms", "isms", "kalasms", "intellisoftware", "smscentre"])
def test_test_connection_reports_a_wrong_password(manager_client, sandbox, sandbox_account, kind):
    account = sandbox_account(kind)
    account.password = "Wr0ng-pass"
    account.save()

    response = manager_client.post(
        reverse("providers:test_connection", args=[account.pk]), follow=True
    )

    html = response.content.decode()
    assert "Connection works." not in html
    assert "Wr0ng-pass" not in html
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


def test_test_connection_reports_an_unreachable_provider(manager_client):
    account = ProviderAccountFactory(kind="kwtsms", base_url="http://127.0.0.1:9/API/")

    response = manager_client.post(
        reverse("providers:test_connection", args=[account.pk]), headers={"HX-Request": "true"}
    )

    assert "Connection failed." in response.content.decode()


# --- point 3: callbacks, token rotation, allow-list -----------------------------------------------


def test_a_manager_sees_and_rotates_the_callback_addresses(manager_client):
    account = ProviderAccountFactory(kind="isms")
    first = account.webhook_token
    page = manager_client.get(account.get_absolute_url()).content.decode()
    assert f"/hooks/isms/{first}/dlr" in page
    assert f"/hooks/isms/{first}/incoming" in page
    assert 'data-copy="#callback-dlr"' in page

    manager_client.post(reverse("providers:rotate_token", args=[account.pk]))
    account.refresh_from_db()
    page = manager_client.get(account.get_absolute_url()).content.decode()
    assert f"/hooks/isms/{account.webhook_token}/dlr" in page
    assert f"/hooks/isms/{first}/dlr" in page  # still valid until finished
    assert "Rotation in progress" in page

    manager_client.post(reverse("providers:finish_rotation", args=[account.pk]))
    page = manager_client.get(account.get_absolute_url()).content.decode()
    assert first not in page
    assert "Rotation in progress" not in page


def test_an_operator_does_not_see_the_token(operator_client):
    account = ProviderAccountFactory(kind="isms")

    page = operator_client.get(account.get_absolute_url()).content.decode()

    assert account.webhook_token not in page
    assert "a Manager can see and copy them" in page
    assert (
        operator_client.post(reverse("providers:rotate_token", args=[account.pk])).status_code
        == 403
    )


def test_both_tokens_work_during_a_rotation_and_the_old_one_stops_after(client):
    account = ProviderAccountFactory(kind="isms")
    old = account.webhook_token
    account.rotate_webhook_token()
    params = {"ShortCode": "63633", "Sender": "60123456789", "ContentType": "1", "Msg": "hi"}

    for token in (old, account.webhook_token):
        assert client.get(reverse("hooks:isms_incoming", args=[token]), params).status_code == 200
    account.finish_token_rotation()
    from smsportal.messaging.delivery_reports import webhooks

    webhooks._accounts.clear()
    assert client.get(reverse("hooks:isms_incoming", args=[old]), params).status_code == 400


def test_the_page_shows_when_the_last_report_and_incoming_sms_arrived(client, manager_client):
    account = ProviderAccountFactory(kind="isms")
    page = manager_client.get(account.get_absolute_url()).content.decode()
    assert page.count("none received yet") == 2

    client.get(
        reverse("hooks:isms_incoming", args=[account.webhook_token]),
        {"ShortCode": "63633", "Sender": "60123456789", "ContentType": "1", "Msg": "hi"},
    )
    client.get(
        reverse("hooks:isms_dlr", args=[account.webhook_token]),
        {"MsgId": "777", "Status": "6", "Sender": "63633"},
    )

    account.refresh_from_db()
    assert timezone.now() - account.last_inbound_at < timedelta(seconds=30)
    assert timezone.now() - account.last_report_at < timedelta(seconds=30)
    page = manager_client.get(account.get_absolute_url()).content.decode()
    assert "none received yet" not in page


def test_the_last_call_is_written_at_most_once_a_minute():
    account = ProviderAccountFactory(kind="isms")
    account.note_callback("last_report_at")
    first = account.last_report_at

    account.note_callback("last_report_at")

    assert account.last_report_at == first


def test_the_page_offers_the_documented_isms_addresses_for_the_allow_list(manager_client):
    account = ProviderAccountFactory(kind="isms", ip_allowlist="")
    page = manager_client.get(account.get_absolute_url()).content.decode()
    assert "210.5.41.23" in page and "103.4.7.156" in page
    assert 'id="allow-callback-addresses"' in page

    manager_client.post(reverse("providers:allow_callback_addresses", args=[account.pk]))

    account.refresh_from_db()
    assert account.allowed_ips == ["210.5.41.23", "103.4.7.156"]
    page = manager_client.get(account.get_absolute_url()).content.decode()
    assert 'id="allow-callback-addresses"' not in page


def test_providers_that_do_not_call_us_show_no_callback_addresses(manager_client):
    account = ProviderAccountFactory(kind="kwtsms")

    page = manager_client.get(account.get_absolute_url()).content.decode()

    assert 'id="callbacks"' not in page


def test_an_option_without_a_label_is_named_after_itself_not_its_prefix():
    form = ProviderAccountForm()

    assert form["kwtsms__transport"].label == "Transport"


@pytest.mark.parametrize("kind", ["kwtsms", "isms", "kalasms", "intellisoftware"])
def test_test_connection_never_echoes_a_web_page(manager_client, sandbox, sandbox_account, kind):
    # Not a provider's answer (a proxy's or an intranet server's page): it is named, never
    # shown, not even as an excerpt (issue 15).
    account = sandbox_account(kind)
    sandbox.world.put_account(kind, account.username, demo_password(kind), faults={"garbage": True})

    response = manager_client.post(
        reverse("providers:test_connection", args=[account.pk]), headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert "answered with a web page instead of a result" in html
    assert "Runtime Error" not in html and "&lt;html" not in html and "<title>500" not in html
