"""System checks (`manage.py check --database default`, and every `migrate`) stop a deploy whose
stored provider accounts would fail in the middle of a send, and name what to fix."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.checks import Error, Warning
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from smsportal.core.checks import check_field_encryption_keys
from smsportal.providers import endpoints
from smsportal.providers.checks import check_provider_accounts
from smsportal.providers.models import ProviderAccount
from tests.factories import ProviderAccountFactory

pytestmark = pytest.mark.django_db


def problems():
    return [(m.id, m.msg) for m in check_provider_accounts(databases=["default"])]


def test_sound_accounts_pass():
    ProviderAccountFactory(kind="kwtsms", options={"transport": "http", "smtp_port": 587})
    ProviderAccountFactory(kind="smscentre", base_url="smpp://127.0.0.1:2775")
    ProviderAccountFactory(kind="isms")

    assert problems() == []
    call_command("check", "--database", "default")  # registered, and passes


def test_a_base_url_the_account_form_would_refuse_is_an_error():
    ProviderAccountFactory(name="Office", kind="kwtsms", base_url="ftp://example.com/api")
    ProviderAccountFactory(name="Inside", kind="isms", base_url="http://10.1.2.3/isms")

    found = problems()

    assert [code for code, _ in found] == ["providers.E002", "providers.E002"]
    assert 'Provider account "Inside" has an address' in found[0][1]
    assert "10.1.2.3 is not a public address" in found[0][1]
    assert 'Provider account "Office"' in found[1][1]
    assert "must start with http:// or https://" in found[1][1]


def test_a_host_that_cannot_be_found_now_is_only_a_warning(monkeypatch):
    def no_answer(host):
        raise OSError("resolver down")

    monkeypatch.setattr(endpoints, "resolve", no_answer)
    ProviderAccountFactory(name="Far", kind="kwtsms", base_url="https://sms.example.org/api")

    [message] = check_provider_accounts(databases=["default"])

    assert isinstance(message, Warning) and not isinstance(message, Error)
    assert message.id == "providers.W001"
    assert "The host sms.example.org cannot be found." in message.msg


def test_an_option_its_backend_would_refuse_is_an_error_and_an_unknown_one_a_warning():
    ProviderAccountFactory(
        name="Mail", kind="kwtsms", options={"transport": "fax", "smtp_port": 0, "colour": "red"}
    )

    found = problems()

    assert [code for code, _ in found] == ["providers.W002", "providers.E003", "providers.E003"]
    assert "an option its kind does not use ('colour')" in found[0][1]
    assert 'the option "Mail server port" is not valid' in found[1][1]
    assert 'the option "Transport" is not valid: Select a valid choice.' in found[2][1]


def test_a_secret_the_current_keys_cannot_read_is_an_error_that_never_shows_it():
    account = ProviderAccountFactory(name="Old key", kind="kwtsms")
    foreign = Fernet(Fernet.generate_key()).encrypt(b"the-password").decode()
    ProviderAccount.objects.filter(pk=account.pk).update(
        password_ciphertext=foreign, options={"smtp_password": foreign}
    )

    found = problems()

    assert [code for code, _ in found] == ["providers.E004", "providers.E004"]
    assert "its password cannot be read with the current FIELD_ENCRYPTION_KEY" in found[0][1]
    assert "its Mail server password cannot be read" in found[1][1]
    assert all(foreign not in text and "the-password" not in text for _, text in found)
    with pytest.raises(SystemCheckError, match=r"providers\.E004"):
        call_command("check", "--database", "default")


def test_an_unknown_kind_is_an_error_and_inactive_accounts_are_not_checked():
    known = ProviderAccountFactory(name="Gone", kind="kwtsms")
    ProviderAccount.objects.filter(pk=known.pk).update(kind="retired")
    ProviderAccountFactory(name="Asleep", kind="kwtsms", base_url="ftp://x", is_active=False)

    assert problems() == [
        ("providers.E001", "Provider account \"Gone\" is of an unknown kind ('retired').")
    ]


def test_a_plain_check_without_the_database_does_not_read_accounts():
    ProviderAccountFactory(kind="kwtsms", base_url="ftp://example.com/api")

    assert check_provider_accounts(databases=None) == []
    call_command("check")  # no --database: passes


def test_a_malformed_encryption_key_is_core_e001_once(settings):
    ProviderAccountFactory(kind="kwtsms")
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), "not-a-key"]

    [message] = check_field_encryption_keys()

    assert message.id == "core.E001"
    assert message.msg == "FIELD_ENCRYPTION_KEY: key 2 of 2 is not a Fernet key."
    assert problems() == []  # not an unreadable password per account: the key is the problem
