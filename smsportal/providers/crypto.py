"""Encryption at rest for provider secrets (Fernet, keys from FIELD_ENCRYPTION_KEY).

The first key encrypts; every key decrypts, so a new key can be put first and the old one kept
until `manage.py rotate_field_encryption` (or the next save of each account) has re-encrypted.
"""

from __future__ import annotations

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY must be 32 url-safe base64-encoded bytes (a Fernet key)"
        ) from exc


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode() if plaintext else ""


def decrypt(ciphertext: str) -> str:
    if not ciphertext:
        return ""
    try:
        return fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        # Never include the ciphertext or anything derived from it in the message.
        raise ImproperlyConfigured(
            "A stored provider password cannot be decrypted with FIELD_ENCRYPTION_KEY"
        ) from exc


def rotate(ciphertext: str) -> str:
    """Re-encrypt under the first (newest) key."""
    return fernet().rotate(ciphertext.encode()).decode() if ciphertext else ""
