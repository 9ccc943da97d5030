"""Browser tests: pytest-playwright driving Debian's Chromium against pytest-django's live server.

The browser comes from Debian (`apt-get install chromium`); Playwright's own download is not
possible here. Without it the browser tests are skipped with that reason; CI installs it.
"""

from __future__ import annotations

import os
import shutil

import pytest
from playwright.sync_api import expect

# The suite runs in two processes beside Chromium, the live server and the sandbox on two cores:
# a page that answers in 100 ms alone may take seconds there. Waits are on conditions, so a longer
# bound costs nothing when things are fast and only turns a slow pass into a pass, not a failure.
BROWSER_WAIT_MS = 20_000
expect.set_options(timeout=BROWSER_WAIT_MS)

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the test
# itself (fixtures) are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            if not os.path.exists(CHROMIUM):
                item.add_marker(pytest.mark.skip(reason=f"Chromium not found at {CHROMIUM}"))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            # A busy machine must not make Chromium slow down the page's own timers (the
            # compose preview waits 400 ms after typing) as it does for background pages.
            "--disable-background-timer-throttling",
            "--disable-renderer-backgrounding",
            "--disable-backgrounding-occluded-windows",
        ],
    }


@pytest.fixture(autouse=True)
def _patient_page(request):
    """Actions (click, fill) wait as long as assertions do."""
    if "page" in request.fixturenames:
        request.getfixturevalue("page").set_default_timeout(BROWSER_WAIT_MS)


@pytest.fixture
def login(page, live_server):
    """Log `user` in through the real login form; returns the page on the dashboard."""

    def _login(user, password: str):
        page.goto(f"{live_server.url}/auth/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        return page

    return _login
