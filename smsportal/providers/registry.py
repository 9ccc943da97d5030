"""Which backend class speaks for each kind of provider account.

One dict feeds both the model field's choices and `ProviderAccount.backend`; classes are imported
lazily so that loading the models never imports a protocol library.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from .backends.base import Backend

PROVIDERS: dict[str, tuple[str, str]] = {
    "kalasms": ("KalaSMS", "smsportal.providers.backends.kalasms.KalaSMSBackend"),
    "kwtsms": ("KwtSMS", "smsportal.providers.backends.kwtsms.KwtSMSBackend"),
    "isms": ("ISMS (sms.com.my)", "smsportal.providers.backends.isms.ISMSBackend"),
    "intellisoftware": (
        "IntelliSoftware",
        "smsportal.providers.backends.intellisoftware.IntelliSoftwareBackend",
    ),
    "smscentre": ("SMS Centre (SMPP)", "smsportal.providers.backends.smscentre.SMSCentreBackend"),
}

KIND_CHOICES = [(kind, label) for kind, (label, _path) in PROVIDERS.items()]


@cache
def backend_class(kind: str) -> type[Backend]:
    try:
        _label, path = PROVIDERS[kind]
    except KeyError:
        raise ValueError(f"Unknown provider kind {kind!r}") from None
    return import_string(path)
