"""Every page, for every role, as the server writes it (fast: the test client, no browser).

From the dashboard the walk follows every same-origin link, four links deep, and fails on a
page that answers an error, a form written inside another form (the browser drops the inner
tag and lends its fields to the outer form: Compose sent through the first account because of
one), or a field name used twice in one form (Django takes the last value), or jargon staff
should not read; and on each page of the portal's own sections exactly one navigation item is
highlighted; every page has a favicon.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve

from tests.factories import UserFactory
from tests.support.crawl import Frontier, page_links
from tests.support.html_forms import form_problems
from tests.support.portal_data import populate

pytestmark = pytest.mark.django_db

ORIGIN = "http://testserver"

# Named pages the walk does not reach, and why. Anything else it misses is a page no role can
# find from the navigation: a bug, or a new page this list must name.
NOT_PAGES = {
    # Actions: POST only, behind a button of a page the walk checks.
    "contacts:contact_delete", "contacts:contact_bulk", "contacts:list_delete",
    "contacts:list_push", "contacts:remote_list_delete", "messaging:remote_list_send",
    "contacts:optout_create", "contacts:optout_delete", "contacts:import_start", "credits:refresh",
    "credits:transfer_execute", "messaging:message_cancel", "messaging:message_retry",
    "messaging:inbox_mark_read", "messaging:conversation_reply", "providers:rotate_token",
    "providers:finish_rotation", "keywords:rule_delete", "forwarding:delete", "forwarding:test",
    "forwarding:rotate", "forwarding:finish_rotation",
    "providers:test_connection", "providers:allow_callback_addresses",
    "senders:set_default", "senders:sync", "logout", "set_language",
    "contacts:field_delete", "recurring:pause", "recurring:delete", "message_templates:delete",
    "api-key-create", "api-key-revoke", "quotas:delete",
    "routing:delete_price", "routing:import_prices", "routing:route_delete", "routing:route_move",
    "routing:account_settings",
    "routing:dry_run",  # the answer of the Routing page's dry-run form (GET), not a link
    "departments:member_add", "departments:member_remove",
    # htmx fragments, fetched by a page (their full-page answer is a redirect to it).
    "credits:balances", "senders:options", "messaging:contact_conversations",
    # Reached only from a form's answer, not from a link; the log-in page is walked logged out.
    # A mail merge's page is the upload's answer (tests/messaging/test_mail_merge.py checks it).
    "password_change_done", "login", "messaging:mail_merge",
    # Two-factor log-in: POST-only buttons of the profile page, the code step (reached only from
    # the log-in) and the recovery codes (shown once, as the answer of a form).
    "users:two_factor_start", "users:recovery_codes_regenerate", "users:two_factor_disable",
    "users:two_factor_verify", "users:recovery_codes",
    # The preferences form's address: its form is on the profile page, a GET leads there.
    "preferences",
}  # fmt: skip


@pytest.fixture
def superuser(db):
    return UserFactory(username="admin", is_superuser=True, is_staff=True)


def portal_url_names() -> set[str]:
    """Every named URL of the portal's own apps (not the admin's, nor webhooks)."""
    names: set[str] = set()

    def walk(patterns, namespace: str = "") -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if entry.namespace in ("admin", "webhooks", "hooks"):
                    continue
                ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry.url_patterns, ns)
            elif isinstance(entry, URLPattern) and entry.name:
                if entry.name.startswith("api-") and entry.name not in ("api-docs", "api-redoc"):
                    continue  # the HTTP API and its schema: not pages (tests/api)
                names.add(namespace + entry.name)

    walk(get_resolver().url_patterns)
    return names


# Words staff should never read (issue 13): standards jargon, a broken plural, a clock that says
# nothing. Looked for in the text a person sees, not in markup, scripts or attribute values.
JARGON = re.compile(
    r"septets?|UCS-2 units?|3GPP|TS 23\.040|\bsettled\b|\bpushs\b|\b0 minutes ago"
    r"|\b1 (?:recipients|numbers|messages|contacts|deliveries|credits|parts)\b",
    re.IGNORECASE,
)


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style|template)\b.*?</\1>", " ", html, flags=re.S | re.I)
    return re.sub(r"<[^>]+>", " ", html)


def walk(client) -> tuple[list[str], set[str]]:
    """Visit the portal as `client`'s user; the problems found and the URL names visited."""
    problems: list[str] = []
    visited: set[str] = set()
    frontier = Frontier(ORIGIN, "/", max_depth=4, limit=600)
    for url, depth, referrer in frontier:
        response = client.get(url[len(ORIGIN) :])
        if response.streaming:
            # Read a streamed export to its end inside this test's transaction: left unread, its
            # server-side cursor (PostgreSQL) is closed later by the garbage collector, in the
            # next test's transaction, which that failed CLOSE then aborts.
            b"".join(response.streaming_content)
        where = f"{url[len(ORIGIN) :]} (linked from {referrer[len(ORIGIN) :] or 'nowhere'})"
        try:
            visited.add(resolve(urlsplit(url).path).view_name)
        except Resolver404:
            problems.append(f"{where} is no page of the portal")
            continue
        if response.status_code in (301, 302, 303):
            frontier.add(ORIGIN + response["Location"], depth, url)
            continue
        if response.status_code != 200:
            problems.append(f"{where} answered {response.status_code}")
            continue
        if "text/html" not in response.get("Content-Type", ""):
            continue
        html = response.content.decode()
        problems += [f"{where}: {problem}" for problem in form_problems(html)]
        if not urlsplit(url).path.startswith("/admin/"):  # Django's own admin words
            problems += [f"{where} says {w!r}" for w in JARGON.findall(visible_text(html))]
        if 'rel="icon"' not in html:
            problems.append(f"{where} links no favicon")
        navbar = html.partition('id="mainnav"')[2].partition("</nav>")[0]
        highlighted = len(re.findall(r'class="nav-link active[" ]', navbar))
        # the API's docs pages (Swagger UI, Redoc) are standalone, without the portal's menu
        in_a_section = not urlsplit(url).path.startswith(("/auth/", "/admin/", "/api/"))
        if highlighted > 1 or (in_a_section and highlighted != 1):
            problems.append(f"{where} highlights {highlighted} navigation items, not one")
        for link in page_links(html, url):
            frontier.add(link, depth + 1, url)
    return problems, visited


@pytest.mark.parametrize("role", ["operator", "manager", "superuser"])
def test_every_page_answers_with_one_nav_item_lit_and_no_nested_form_or_doubled_field(
    client, request, role, sandbox_account
):
    user = request.getfixturevalue(role)
    populate(sandbox_account, user)
    client.force_login(user)

    problems, visited = walk(client)

    assert problems == []
    assert len(visited) > 10, visited  # the walk went somewhere
    if role == "superuser":
        unreached = portal_url_names() - visited - NOT_PAGES
        assert unreached == set(), "pages no link leads to (or add them to NOT_PAGES, saying why)"


def test_the_login_page_has_well_formed_forms(client):
    response = client.get("/auth/login/")
    assert response.status_code == 200
    assert form_problems(response.content.decode()) == []


def test_the_check_finds_a_form_inside_a_form():
    html = """<form id="outer" action="/send/"><select name="account"></select>
      <form action="/refresh/"><input type="hidden" name="account" value="1">
      <button>Refresh</button></form><button name="action" value="a">A</button>
      <button name="action" value="b">B</button></form>"""

    assert form_problems(html) == [
        "form (action '/refresh/', line 2) is inside form #outer (action '/send/', line 1)",
    ]


def test_the_check_finds_a_field_twice_in_one_form_but_allows_groups():
    html = """<form action="/x/"><select name="account"></select>
      <input type="hidden" name="account" value="1">
      <input type="radio" name="mode" value="a"><input type="radio" name="mode" value="b">
      <input type="checkbox" name="ids" value="1"><input type="checkbox" name="ids" value="2">
      </form><input name="account" form="other"><form id="other" action="/y/"></form>"""

    assert form_problems(html) == [
        "form (action '/x/', line 1) has 2 fields named 'account' (select-one, hidden)".replace(
            "select-one", "select"
        ),
    ]


def test_the_jargon_check_reads_only_what_a_person_sees():
    page = (
        '<p title="septets">1 recipient, 2 SMS</p><script>var x = "3GPP settled";</script>'
        "<p>counted in septets, 1 recipients, settled 0 minutes ago</p>"
    )
    found = [w.lower() for w in JARGON.findall(visible_text(page))]
    assert found == ["septets", "1 recipients", "settled", "0 minutes ago"]
