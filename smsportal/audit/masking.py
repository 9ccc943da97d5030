"""What the audit trail keeps of a secret: that it changed, never its value.

django-auditlog calls `hide` (the mask callable of the models registered with masked fields) on
the text of each masked field that changed: a stored secret (a provider password or secret
option, encrypted; a webhook token) becomes "hidden #1a2b", a fingerprint of the stored value.
The fingerprint of a Fernet ciphertext or of a random token says nothing about the secret, yet
shows before/after that it was replaced. Options are a dict: only its secret entries are hidden.
"""

from __future__ import annotations

import ast
import hashlib
import re

# Option names that hold a secret (provider options such as a mail server password), and the
# form every secret takes at rest (Fernet tokens start so).
SECRET_NAME = re.compile(r"pass|secret|token|key", re.IGNORECASE)
FERNET_PREFIX = "gAAAAA"


def fingerprint(value: str) -> str:
    if not value:
        return ""
    return "hidden #" + hashlib.sha256(value.encode()).hexdigest()[:4]


def hide(text: str) -> str:
    options = _as_dict(text)
    if options is None:
        return fingerprint(text if text not in ("None", "") else "")
    hidden = {
        name: fingerprint(str(value)) if _is_secret(name, value) else value
        for name, value in options.items()
    }
    return repr(hidden)


def _is_secret(name, value) -> bool:
    return bool(SECRET_NAME.search(str(name))) or str(value).startswith(FERNET_PREFIX)


def _as_dict(text: str) -> dict | None:
    if not text.startswith("{"):
        return None
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, dict) else None
