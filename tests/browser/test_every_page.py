"""Every page, for every role, in Chromium: the suite that finds the nested-form class of bug.

For the Operator, the Manager and a superuser, the walk opens the dashboard, every page of the
navigation and every page linked from those (same-origin, breadth-first, bounded; never Log out,
never a download), and fails on:

- a console error or an uncaught exception (a CSP violation is one),
- a request that failed or answered 4xx/5xx (pages, htmx fragments, static files),
- a form written inside another form, or a field name twice in one form (in the source, which
  keeps what the browser's parser throws away, and in the DOM),
- a submit button that, in the browser, goes somewhere other than the form it was written in
  (the Refresh button of a card nested in Compose posted Compose), or whose label names a
  destination it does not reach.

One test per role: one browser and one live server for the whole walk, one page per role.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.urls import Resolver404, resolve
from playwright.sync_api import Error as PlaywrightError

from smsportal.core.models import Preference
from tests.factories import PASSWORD, UserFactory
from tests.support.crawl import Frontier, page_links
from tests.support.html_forms import authored_destinations, form_problems
from tests.support.portal_data import populate

pytestmark = pytest.mark.django_db(transaction=True)

# scripts/screenshots.py sets this: the walk then also photographs every page at both widths.
SCREENSHOTS = os.environ.get("PORTAL_SCREENSHOTS_DIR")
# ...and this, to walk the pages in another language (the users' preference): "ar".
LANGUAGE = os.environ.get("PORTAL_SCREENSHOTS_LANGUAGE", "")
WIDTHS = {1366: 768, 390: 844}

MAX_PAGES = 60  # per role; the walk is breadth-first, so the navigation always comes first
# Photographs are of every page: a deeper walk, with room for every page a role can reach.
MAX_PAGES_PHOTOGRAPHED, DEPTH_PHOTOGRAPHED = 200, 3

# A submit button whose label says where it goes must go there.
LABELLED_DESTINATIONS = [
    (re.compile(r"^Refresh\b"), {"credits:refresh"}),
    (re.compile(r"^Log out$"), {"logout", "admin:logout"}),
    (re.compile(r"^(Send…|Confirm and send|Preview)$"), {"messaging:compose"}),
]

# Every submit button in the DOM: its label, where it posts, and its form's own field names.
DOM_FORMS = """() => {
  const clean = (s) => (s || "").replace(/\\s+/g, " ").trim();
  const formAction = Object.getOwnPropertyDescriptor(HTMLFormElement.prototype, "action").get;
  const buttons = [...document.querySelectorAll("button, input[type=submit], input[type=image]")]
    .filter((b) => (b.type === "submit" || b.type === "image") && b.form)
    .map((b) => ({label: clean(b.getAttribute("aria-label") || b.textContent || b.value),
                  // formAction is the page's own URL when the button has no formaction, and
                  // form.action may be a field named "action": ask the form's own getter.
                  action: b.hasAttribute("formaction") ? b.formAction : formAction.call(b.form)}));
  const doubled = [];
  for (const form of document.forms) {
    const kinds = {};
    for (const el of form.elements) {
      if (!el.name) continue;
      (kinds[el.name] = kinds[el.name] || []).push(el.type);
    }
    for (const [name, types] of Object.entries(kinds)) {
      const group = new Set(types).size === 1 && ["radio", "checkbox", "submit", "image"]
        .includes(types[0]);
      if (types.length > 1 && !group) doubled.push(`${form.id || form.action}: ${name} (${types})`);
    }
  }
  return {buttons, doubled, nested: document.querySelectorAll("form form").length};
}"""


# Redoc's bundle (drf-spectacular-sidecar) always asks cdn.redoc.ly for the logo in its sidebar.
# The Content-Security-Policy refuses it, as it should (nothing is fetched from outside), and
# Redoc then hides the image: on that page, that refusal alone is not a finding.
REDOC, REDOC_LOGO = "/api/redoc/", "https://cdn.redoc.ly/"

# Problems found by this walk that belong to another change already on its way, each with the
# change that ends it. Remove a line as soon as that change is on main.
KNOWN_ELSEWHERE: list[re.Pattern] = []


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1366, "height": 768}}


@pytest.fixture
def superuser(db):
    return UserFactory(username="admin", is_superuser=True, is_staff=True)


def _squeeze(label: str) -> str:
    return "".join(label.split())


def _view_name(url: str) -> str | None:
    try:
        return resolve(urlsplit(url).path).view_name
    except Resolver404:
        return None


def check_submits(source: str, url: str, dom: dict) -> list[str]:
    problems = []
    authored = {
        _squeeze(label): where for label, where in authored_destinations(source, url).items()
    }
    for button in dom["buttons"]:
        label, action = button["label"], button["action"].split("#")[0]
        written = authored.get(_squeeze(label))
        if written and action not in written:
            problems.append(
                f"button {label!r} submits to {action}, but was written in a form for "
                f"{' or '.join(sorted(written))}"
            )
        for pattern, names in LABELLED_DESTINATIONS:
            if pattern.search(label) and _view_name(action) not in names:
                problems.append(f"button {label!r} submits to {action}, not to {sorted(names)}")
    return problems


def photograph(page, folder: Path, url: str) -> None:
    parts = urlsplit(url)
    name = re.sub(r"[^A-Za-z0-9]+", "-", f"{parts.path}-{parts.query}").strip("-") or "dashboard"
    for width, height in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=folder / f"{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1366, "height": 768})


def walk(page, origin: str, shots: Path | None = None) -> tuple[list[str], int]:
    """Visit the portal in `page`; the problems found and the number of pages seen."""
    problems: list[str] = []
    current = {"url": ""}

    def note(what: str) -> None:
        path = urlsplit(current["url"]).path
        if path == REDOC and REDOC_LOGO in what:
            return
        problems.append(f"{path}: {what}")

    page.on("console", lambda m: m.type == "error" and note(f"console error: {m.text}"))
    page.on("pageerror", lambda e: note(f"uncaught exception: {e}"))
    page.on(
        "requestfailed",
        # Requests cut short by the walk moving on are not failures of the page.
        lambda r: "ERR_ABORTED" not in (r.failure or "") and note(f"{r.url} failed: {r.failure}"),
    )
    page.on("response", lambda r: r.status >= 400 and note(f"{r.url} answered {r.status}"))

    frontier = (
        Frontier(origin, "/", max_depth=DEPTH_PHOTOGRAPHED, limit=MAX_PAGES_PHOTOGRAPHED)
        if shots
        else Frontier(origin, "/", max_depth=2, limit=MAX_PAGES)
    )
    seen = 0
    for url, depth, _referrer in frontier:
        if urlsplit(url).path.endswith(".csv"):
            continue  # a download, not a page (the fast walk checks that it answers)
        current["url"] = url
        try:
            response = page.goto(url, wait_until="load")
        except PlaywrightError as error:
            if "Download is starting" in str(error):
                continue  # an export answered as an attachment: a download, not a page
            raise
        seen += 1
        if response is None or "text/html" not in response.headers.get("content-type", ""):
            continue
        source = response.text()
        dom = page.evaluate(DOM_FORMS)
        problems.extend(f"{urlsplit(url).path}: {p}" for p in form_problems(source))
        if dom["nested"]:
            note(f"{dom['nested']} forms inside forms in the DOM")
        problems.extend(f"{urlsplit(url).path}: doubled field {d}" for d in dom["doubled"])
        problems.extend(f"{urlsplit(url).path}: {p}" for p in check_submits(source, url, dom))
        for link in page_links(page.content(), page.url):
            frontier.add(link, depth + 1, url)
        if shots:
            photograph(page, shots, url)
    page.wait_for_load_state("networkidle")  # the last page's own requests, too
    return problems, seen


@pytest.mark.parametrize("role", ["operator", "manager", "superuser"])
def test_every_page_works_in_the_browser(page, live_server, login, request, role, sandbox_account):
    user = request.getfixturevalue(role)
    populate(sandbox_account, user)
    if LANGUAGE:
        Preference.objects.create(user=user, language=LANGUAGE)
    login(user, PASSWORD)

    shots = Path(SCREENSHOTS, role) if SCREENSHOTS else None
    if shots:
        shots.mkdir(parents=True, exist_ok=True)
    problems, seen = walk(page, live_server.url, shots)
    problems = [p for p in problems if not any(k.search(p) for k in KNOWN_ELSEWHERE)]

    assert problems == []
    assert seen > 10
