"""The keys that make a send happen once (`Message.idempotency_key`, unique across the portal).

Two kinds share the one column:

- system keys, made by the portal from what it sends: a recurring occurrence's
  `recurring:<schedule>:<due time>`, a routed part's `<key>:<account>:<route>`. They are
  predictable, which is safe only while nobody but the portal can write one;
- form keys, from the hidden one-time token of a form (Compose, Send from a file, a reply) that
  a double click or a second tab posts again. The browser sends the token, so it is never used
  as it came: it must look like the tokens the portal makes (anything else is replaced by a
  fresh one) and it is kept under its person's own prefix, `form:<user id>:<token>`. No one can
  then write a system key, nor another person's form key, through a form.

`sending.prepare` checks besides that a key already used is the same sender's before it
answers with that message (`sending.sent_with`).
"""

from __future__ import annotations

import re
import secrets

FORM_PREFIX = "form:"
# What `new_token` makes (secrets.token_urlsafe(24): 32 characters of A-Z a-z 0-9 - _), or
# shorter: no colon, so a form key has exactly the shape `form:<user id>:<token>`, and short
# enough that it and a routed part's suffix fit the column's 64 characters.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,32}")


def new_token() -> str:
    """A form's one-time token, for its hidden field."""
    return secrets.token_urlsafe(24)


def valid_token(posted: str | None) -> bool:
    return bool(posted) and TOKEN_SHAPE.fullmatch(posted) is not None


def clean_token(posted: str | None) -> str:
    """The posted token if it has the shape the portal makes, else a fresh one: a tampered
    token (too long, a colon, a system key) still sends, once, as a new message."""
    return posted if valid_token(posted) else new_token()


def form_key(user, token: str | None) -> str | None:
    """The idempotency key of `user`'s form with this token; None for a token of another
    shape, which no form key can hold (`clean_token` replaced it before anything was sent)."""
    if not valid_token(token) or getattr(user, "pk", None) is None:
        return None
    return f"{FORM_PREFIX}{user.pk}:{token}"


def is_form_key(key: str) -> bool:
    return key.startswith(FORM_PREFIX)
