"""Words staff read: counts with their noun in the right number, thousands separated."""

from __future__ import annotations


def counted(count: int, one: str, many: str | None = None) -> str:
    """'1 recipient', '1,204 recipients' (`many` defaults to `one` + 's')."""
    return f"{count:,} {one if count == 1 else (many or one + 's')}"
