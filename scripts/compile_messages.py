"""Compile every gettext catalogue under locale/ (.po → .mo) in Python, with polib.

    .venv/bin/python scripts/compile_messages.py

Django's `compilemessages` needs system gettext (msgfmt); this needs only the dev tools. Fuzzy
and untranslated entries are left out of the .mo, as msgfmt does (tests/core/test_catalogue.py
fails on any, so a committed catalogue has none).
"""

from __future__ import annotations

import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent


def compile_all(root: Path = ROOT / "locale") -> list[Path]:
    written = []
    for po_path in sorted(root.glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
        written.append(mo_path)
    return written


def main() -> int:
    for path in compile_all():
        print(f"compiled {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
