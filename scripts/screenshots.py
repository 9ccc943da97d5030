"""Photograph every page of the portal, as each role, at 1366 and 390 px wide.

    .venv/bin/python scripts/screenshots.py [FOLDER]      # default: screenshots/ (git-ignored)
    .venv/bin/python scripts/screenshots.py --language ar [FOLDER]   # the pages in Arabic

It runs the browser walk of tests/browser/test_every_page.py (the same data, the same pages: the
dashboard, every page of the navigation and every page linked from them, as Operator, Manager
and superuser) with photographs switched on, and writes FOLDER/<role>/<page>-<width>.png
(default folder for a language: screenshots/<language>/). The
walk's findings, if any, are printed as the test's failure; the photographs are written anyway.
Needs the dev tools (`make setup`) and Debian's Chromium.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Photograph every page of the portal.")
    parser.add_argument("folder", nargs="?", help="where the PNGs go")
    parser.add_argument(
        "--language",
        default="",
        help="a code of settings.LANGUAGES (ar): each role walks the pages in that language",
    )
    args = parser.parse_args(argv)
    default = ROOT / "screenshots" / args.language if args.language else ROOT / "screenshots"
    folder = Path(args.folder or default).resolve()
    os.environ["PORTAL_SCREENSHOTS_LANGUAGE"] = args.language
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["PORTAL_SCREENSHOTS_DIR"] = str(folder)
    os.chdir(ROOT)
    status = pytest.main(["tests/browser/test_every_page.py", "-q", "-n", "0", "-p", "no:randomly"])
    print(f"Screenshots in {folder}")
    return int(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
