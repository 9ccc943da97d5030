"""What still uses a sender ID: asked before a Manager retires one (`views.sender_retire`).

The uses live in apps above this one (scheduled messages, recurring sends, routing), which the
import contracts forbid this app to import (pyproject.toml, [tool.importlinter]). So each of
those apps registers, from its `AppConfig.ready`, a function that finds its own uses of a sender
ID (`register_uses`), as the inbox registers its count beside the navigation link
(`core.navigation.register_badge`); this app only asks them all (`uses_of`). Each function
costs a fixed number of queries, however many rows use the sender ID.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.http import HttpRequest
from django.utils.translation import ngettext

from smsportal.core.text import grouped

from .models import SenderID

# How many rows a use names by link; the rest are counted ("and 4 more").
SHOWN = 5


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class Use:
    """One kind of use of a sender ID, in words: "3 scheduled messages not yet sent", some of
    them by link, a link to the rest the person may open (`more`), what retiring does to them
    (`outcome`), and how many of them the person may not open (`unseen`: other departments')."""

    summary: str
    links: list[Link] = field(default_factory=list)
    more: Link | None = None
    outcome: str = ""
    unseen: str = ""


def unseen_note(unseen: int, seen: int) -> str:
    """Said of the rows a use counts but the person may not open (other departments'): retiring
    holds them all, so the count is the whole account's, but neither the links nor the page
    behind "and N more" show these. Empty when there are none."""
    if not unseen:
        return ""
    if not seen:
        return ngettext(
            "It is in another department: you cannot open it.",
            "All of them are in other departments: you cannot open them.",
            unseen,
        )
    return ngettext(
        "%(count)s of them is in another department: you cannot open it.",
        "%(count)s of them are in other departments: you cannot open them.",
        unseen,
    ) % {"count": grouped(unseen)}


# (position on the page, function) from each app's `AppConfig.ready`; the function returns its
# uses of the sender ID (none: an empty list), with links only to rows `request` may see.
UsesFinder = Callable[[SenderID, HttpRequest], list[Use]]
_FINDERS: list[tuple[int, UsesFinder]] = []


def register_uses(position: int, finder: UsesFinder) -> None:
    """Ask `finder` what uses a sender ID before it is retired (called from `AppConfig.ready`;
    `position` orders its lines on the page, whatever order the apps are loaded in)."""
    if all(registered is not finder for _position, registered in _FINDERS):
        _FINDERS.append((position, finder))
        _FINDERS.sort(key=lambda entry: entry[0])


def uses_of(sender: SenderID, request: HttpRequest) -> list[Use]:
    """Everything that still uses `sender` on its account, as the apps that hold it say."""
    return [use for _position, finder in _FINDERS for use in finder(sender, request)]
