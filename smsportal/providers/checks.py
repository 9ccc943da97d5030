"""System checks of the stored provider accounts: what would otherwise fail in the middle of a send.

They read the database, so they carry Django's `database` tag: `migrate` (every deploy) runs them,
and so does `manage.py check --database default`; a plain `manage.py check` does not. Each
active account's kind must be known, its base URL one the account form would accept, its options
ones its backend would accept, and its password and secret options readable with the current
FIELD_ENCRYPTION_KEYS (`core.E001` checks the keys themselves). Messages name the account and
the setting, never a secret.
"""

from __future__ import annotations

from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import DatabaseError

from . import crypto
from .endpoints import validate_base_url
from .models import ProviderAccount
from .registry import backend_class

FIX_HINT = "Correct it on the account's page (Accounts → the account → Edit)."


@register(Tags.database)
def check_provider_accounts(app_configs=None, databases=None, **kwargs) -> list[CheckMessage]:
    if not databases or "default" not in databases:
        return []
    try:
        accounts = list(ProviderAccount.objects.filter(is_active=True).order_by("name"))
    except DatabaseError:
        return []  # not migrated yet (migrate runs its checks first): nothing stored to check
    messages: list[CheckMessage] = []
    for account in accounts:
        messages += account_problems(account)
    return messages


def account_problems(account) -> list[CheckMessage]:
    """What is wrong with one account's stored settings (empty when nothing is)."""
    try:
        backend = backend_class(account.kind)
    except ValueError:
        return [
            Error(
                f'Provider account "{account}" is of an unknown kind ({account.kind!r}).',
                hint="Deactivate it, or restore the code that spoke for this kind.",
                obj=account,
                id="providers.E001",
            )
        ]
    return [
        *_base_url_problems(account),
        *_option_problems(account, backend),
        *_secret_problems(account, backend),
    ]


def _base_url_problems(account) -> list[CheckMessage]:
    if not account.base_url:
        return []  # the provider's real service, written in its backend
    try:
        validate_base_url(account.base_url, account.kind)
    except ValidationError as exc:
        text = " ".join(exc.messages)
        if exc.error_list[0].code == "host_not_found":
            # The name may resolve again in a moment (a resolver outage must not stop a deploy).
            return [
                Warning(
                    f'Provider account "{account}": {text}',
                    hint=FIX_HINT,
                    obj=account,
                    id="providers.W001",
                )
            ]
        return [
            Error(
                f'Provider account "{account}" has an address the portal does not accept: {text}',
                hint=FIX_HINT,
                obj=account,
                id="providers.E002",
            )
        ]
    return []


def _option_problems(account, backend) -> list[CheckMessage]:
    fields = backend.settings_fields()
    stored = account.options or {}
    if not isinstance(stored, dict):
        return [
            Error(
                f'Provider account "{account}" has options that are not a set of named values.',
                hint=FIX_HINT,
                obj=account,
                id="providers.E003",
            )
        ]
    problems: list[CheckMessage] = []
    for name, value in sorted(stored.items()):  # one order on every database (jsonb sorts)
        field = fields.get(name)
        if field is None:
            problems.append(
                Warning(
                    f'Provider account "{account}" has an option its kind does not use '
                    f"({name!r}); it is ignored.",
                    hint="Saving the account from its page removes it.",
                    obj=account,
                    id="providers.W002",
                )
            )
            continue
        if getattr(field, "secret", False) or value is None:
            continue  # a secret is stored encrypted: checked below; a missing one has a default
        try:
            field.clean(value)
        except ValidationError as exc:
            label = field.label or name.replace("_", " ")
            problems.append(
                Error(
                    f'Provider account "{account}": the option "{label}" is not valid: '
                    f"{' '.join(exc.messages)}",
                    hint=FIX_HINT,
                    obj=account,
                    id="providers.E003",
                )
            )
    return problems


def _secret_problems(account, backend) -> list[CheckMessage]:
    try:
        crypto.fernet()
    except ImproperlyConfigured:
        return []  # a malformed key: core.E001 says so, once
    secrets = {"password": account.password_ciphertext}
    for name, field in backend.settings_fields().items():
        if getattr(field, "secret", False):
            secrets[field.label or name] = str((account.options or {}).get(name) or "")
    problems: list[CheckMessage] = []
    for label, ciphertext in secrets.items():
        try:
            crypto.decrypt(ciphertext)
        except ImproperlyConfigured:
            problems.append(
                Error(
                    f'Provider account "{account}": its {label} cannot be read with the '
                    "current FIELD_ENCRYPTION_KEY.",
                    hint="Put back the key it was encrypted with (keys may be listed, newest "
                    "first), or enter the secret again on the account's page.",
                    obj=account,
                    id="providers.E004",
                )
            )
    return problems
