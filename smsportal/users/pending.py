"""A log-in halfway through: the password was right, the second factor is still to come.

The user is *not* logged in meanwhile (no Django auth session), so no page, no API call with the
session cookie and no admin page is reachable between the two steps. The session holds only who
is expected, through which backend, and where to go afterwards, for a few minutes.
"""

from __future__ import annotations

import time

from django.contrib.auth import get_user_model
from django.http import HttpRequest

SESSION_KEY = "two_factor_pending"
LIFETIME_SECONDS = 300


def start(request: HttpRequest, user, next_url: str) -> None:
    # A new session key: whoever knew the old one (fixation) learns nothing of this log-in.
    request.session.cycle_key()
    request.session[SESSION_KEY] = {
        "user_id": user.pk,
        "backend": user.backend,
        "next": next_url,
        "since": time.time(),
    }


def load(request: HttpRequest):
    """(user, backend, next URL), or None when no log-in is waiting or it took too long."""
    state = request.session.get(SESSION_KEY)
    if not state:
        return None
    if time.time() - state.get("since", 0) > LIFETIME_SECONDS:
        clear(request)
        return None
    user = get_user_model().objects.filter(pk=state["user_id"], is_active=True).first()
    if user is None:
        clear(request)
        return None
    return user, state["backend"], state["next"]


def clear(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)
