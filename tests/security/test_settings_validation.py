"""A typo in a security setting stops start-up instead of silently switching a protection off."""

from __future__ import annotations

import pytest

from tests.core.test_settings import FERNET_KEY, manage

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "x" * 20 + "a-long-and-random-production-secret-key-0123456789",
    "FIELD_ENCRYPTION_KEY": FERNET_KEY,
    "ALLOWED_HOSTS": "sms.example.com",
}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SECURE_COOKIES", "ture"),
        ("SECURE_SSL_REDIRECT", "enabled"),
        ("DEBUG", "maybe"),
        ("BEHIND_TLS_PROXY", "y"),
        ("SECURE_HSTS_PRELOAD", "2"),
    ],
)
def test_a_yes_no_setting_refuses_any_other_word(name, value):
    result = manage("check", **{**PRODUCTION, name: value})

    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        f"Configuration error: {name} must be one of true/false, 1/0, yes/no, on/off, not {value!r}"
    ]


def test_the_eight_accepted_words_read_as_they_say():
    from smsportal import settings as portal_settings

    for words, meaning in (("true 1 yes on TRUE Yes", True), ("false 0 no off OFF No", False)):
        for word in words.split():
            env = portal_settings.env
            original = env.ENVIRON.get("SOME_FLAG")
            env.ENVIRON["SOME_FLAG"] = word
            try:
                assert portal_settings._bool("SOME_FLAG", not meaning) is meaning, word
            finally:
                if original is None:
                    del env.ENVIRON["SOME_FLAG"]
                else:
                    env.ENVIRON["SOME_FLAG"] = original


def test_secure_cookies_off_on_purpose_still_starts():
    result = manage("check", **{**PRODUCTION, "SECURE_COOKIES": "off"})

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("keys", ["not-a-key", f"{FERNET_KEY},short", "A" * 44])
def test_a_malformed_field_encryption_key_fails_the_system_check(keys):
    result = manage("check", **{**PRODUCTION, "FIELD_ENCRYPTION_KEY": keys})

    assert result.returncode != 0
    assert "(core.E001) FIELD_ENCRYPTION_KEY" in result.stderr
    assert "is not a Fernet key" in result.stderr
    for key in keys.split(","):
        if key != FERNET_KEY:
            assert key not in result.stderr  # a key, even a broken one, is never printed
