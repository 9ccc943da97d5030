"""System checks for settings that only fail later, in the middle of work, when they are wrong.

`manage.py check` (and `migrate`, `runserver`, every worker's start) runs them, so a bad value
stops the deploy instead of the first save of a provider account.
"""

from __future__ import annotations

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security)
def check_field_encryption_keys(app_configs=None, **kwargs) -> list[Error]:
    """Every FIELD_ENCRYPTION_KEY must be a Fernet key: a malformed one makes every provider
    password unreadable. The message names the key's position, never the key itself."""
    errors = []
    keys = getattr(settings, "FIELD_ENCRYPTION_KEYS", [])
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            errors.append(
                Error(
                    f"FIELD_ENCRYPTION_KEY: key {position} of {len(keys)} is not a Fernet key.",
                    hint="A key is 32 random bytes, url-safe base64-encoded (44 characters); "
                    "generate one with: python -c 'from cryptography.fernet import Fernet; "
                    "print(Fernet.generate_key().decode())'",
                    id="core.E001",
                )
            )
    return errors
