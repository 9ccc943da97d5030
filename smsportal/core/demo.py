"""Demo data steps, each idempotent, run in order by `manage.py demo_data` (`make run`).

A step is a callable returning the lines to print; an app adds its own step here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

DEMO_STEPS: list[Callable[[], Iterable[str] | None]] = []
