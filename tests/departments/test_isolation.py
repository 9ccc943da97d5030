"""Department A sees and changes nothing of department B: every page the navigation leads to,
every named page and action with B's ids guessed, every API endpoint with B's ids, and the
admin.

What is department-scoped: messages (and their deliveries, exports, actions), conversations
and incoming SMS, recurring sends, API keys, contacts, lists (a shared one is read and sent to
by all, changed by its own department only), message templates and imports. B's rows carry
marker words; no answer to A may contain one, and no request of A's may change a row of B's."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from smsportal.api.models import ApiKey
from smsportal.contacts.models import Contact, ContactList, ImportJob, Membership
from smsportal.core.roles import OPERATOR
from smsportal.departments.models import Department
from smsportal.message_templates.models import MessageTemplate
from smsportal.messaging.inbound import receive
from smsportal.messaging.models import Conversation, Message
from smsportal.messaging.sending import ResolvedRecipients
from smsportal.providers.backends.base import InboundSMS
from smsportal.recurring.models import RecurringSend
from tests.api.conftest import Caller
from tests.factories import UserFactory
from tests.support.crawl import Frontier, page_links
from tests.support.sending import create_message

pytestmark = pytest.mark.django_db

ORIGIN = "http://testserver"
B_MARKERS = (
    "Zulu-secret",
    "+96597000222",
    "Zulu schedule",
    "Zulu key",
    "Zulu contact",
    "+96597000333",
    "Zulu list",
    "Zulu template",
    "zulu-import.csv",
)


def _operator(username: str, department: Department):
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get(name=OPERATOR))
    department.members.add(user)
    return user


def _department_data(department, user, account, *, word: str, phone: str, django_capture):
    """A message, a thread, a recurring send and an API key of `department`."""
    with django_capture(execute=True):
        message = create_message(
            account=account,
            body=f"{word} offer",
            recipients=ResolvedRecipients(phones=[phone]),
            department=department,
            created_by=user,
        )
        receive(account, InboundSMS(sender=phone, recipient="", text=f"{word} reply", raw={}))
    schedule = RecurringSend.objects.create(
        name=f"{word} schedule",
        account=account,
        text=f"{word} weekly",
        frequency="weekly",
        weekdays=[0],
        time_of_day="09:00",
        timezone="UTC",
        starts_on="2026-11-30",
        department=department,
        created_by=user,
    )
    key, secret = ApiKey.issue(user, f"{word} key", ["send", "read", "contacts"])
    key.department = department
    key.save()
    contact = Contact.objects.create(
        phone="+96597000333" if word.startswith("Zulu") else "+96597000444",
        name=f"{word.split('-')[0]} contact",
        department=department,
    )
    contact_list = ContactList.objects.create(
        name=f"{word.split('-')[0]} list", department=department
    )
    contact_list.add([contact.pk])
    template = MessageTemplate.objects.create(
        name=f"{word.split('-')[0]} template", text=f"{word} template text", department=department
    )
    job = ImportJob.objects.create(
        original_name=f"{word.split('-')[0].lower()}-import.csv",
        region="KW",
        status=ImportJob.Status.DONE,
        department=department,
        created_by=user,
    )
    return {
        "contact": contact,
        "list": contact_list,
        "template": template,
        "import": job,
        "message": message,
        "conversation": Conversation.objects.get(phone=phone),
        "schedule": schedule,
        "key": key,
        "secret": secret,
    }


@pytest.fixture
def world(account, script, django_capture_on_commit_callbacks):
    return two_departments(account, django_capture_on_commit_callbacks)


def two_departments(account, django_capture_on_commit_callbacks) -> dict:
    """Alpha and Bravo, an Operator in each (alice, bob) and each one's rows (B's with the
    marker words); `account` sends through the sandbox (the `script` fixture)."""
    alpha = Department.objects.create(name="Alpha")
    bravo = Department.objects.create(name="Bravo")
    alice, bob = _operator("alice", alpha), _operator("bob", bravo)
    a = _department_data(
        alpha,
        alice,
        account,
        word="Alpha-own",
        phone="+96597000111",
        django_capture=django_capture_on_commit_callbacks,
    )
    b = _department_data(
        bravo,
        bob,
        account,
        word="Zulu-secret",
        phone="+96597000222",
        django_capture=django_capture_on_commit_callbacks,
    )
    return {"alice": alice, "bob": bob, "a": a, "b": b, "account": account}


def _state_of_b(b) -> dict:
    """Everything of B's a write by A could change."""
    message = Message.objects.get(pk=b["message"].pk)
    convo = Conversation.objects.get(pk=b["conversation"].pk)
    schedule = RecurringSend.objects.filter(pk=b["schedule"].pk).values().first()
    key = ApiKey.objects.filter(pk=b["key"].pk).values().first()
    return {
        "message": (message.status, message.body, message.scheduled_for),
        "deliveries": list(message.deliveries.values_list("status", flat=True)),
        "conversation": (convo.unread, convo.replies, convo.department_id),
        "schedule": schedule,
        "key": key,
        "messages_of_b": Message.objects.filter(department__name="Bravo").count(),
        "contacts_of_b": list(
            Contact.objects.filter(department__name="Bravo").values().order_by("pk")
        ),
        "lists_of_b": list(ContactList.objects.filter(department__name="Bravo").values()),
        "members_of_b": list(
            Membership.objects.filter(contact_list=b["list"]).values_list("contact_id", flat=True)
        ),
        "templates_of_b": list(MessageTemplate.objects.filter(department__name="Bravo").values()),
        "imports_of_b": list(ImportJob.objects.filter(department__name="Bravo").values()),
    }


def _leaks(body: bytes | str) -> list[str]:
    text = body.decode(errors="replace") if isinstance(body, bytes) else body
    return [marker for marker in B_MARKERS if marker in text]


def _read(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def test_every_page_a_walks_to_shows_nothing_of_b(client, world):
    client.force_login(world["alice"])
    seen_own, problems = False, []
    frontier = Frontier(ORIGIN, "/", max_depth=4, limit=600)
    for url, depth, _referrer in frontier:
        response = client.get(url[len(ORIGIN) :])
        if response.status_code in (301, 302, 303):
            frontier.add(ORIGIN + response["Location"], depth, url)
            continue
        body = _read(response)
        problems += [f"{url}: {leak}" for leak in _leaks(body)]
        seen_own = seen_own or b"Alpha-own offer" in body
        if "text/html" in response.get("Content-Type", ""):
            for link in page_links(body.decode(), url):
                frontier.add(link, depth + 1, url)

    assert problems == []
    assert seen_own  # the walk reached A's own messages: it went somewhere


def _patterns(prefix_filter=None):
    """(name, pattern) of every named URL with arguments, the admin's and webhooks' aside."""
    found = []

    def walk(patterns, namespace=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if entry.namespace in ("admin", "webhooks", "hooks"):
                    continue
                walk(
                    entry.url_patterns,
                    f"{namespace}{entry.namespace}:" if entry.namespace else namespace,
                )
            elif isinstance(entry, URLPattern) and entry.name and entry.pattern.converters:
                found.append((namespace + entry.name, entry))

    walk(get_resolver().url_patterns)
    return [(n, p) for n, p in found if prefix_filter is None or prefix_filter(n)]


def _guesses(pattern, b, account) -> list[dict]:
    """Arguments for `pattern` naming B's rows: each of B's ids for an id, B's number for a
    phone, the shared account for an account."""
    ids = [
        b["message"].pk,
        b["conversation"].pk,
        b["schedule"].pk,
        b["key"].pk,
        b["contact"].pk,
        b["list"].pk,
        b["template"].pk,
        b["import"].pk,
    ]
    kwargs_list = [{}]
    for name, converter in pattern.pattern.converters.items():
        if name == "account_pk":
            values = [account.pk]
        elif name == "phone":
            values = ["+96597000222"]
        elif type(converter).__name__ == "IntConverter":
            values = sorted(set(ids))
        else:
            values = ["x"]
        kwargs_list = [{**kw, name: value} for kw in kwargs_list for value in values]
    return kwargs_list


def test_no_page_or_action_with_bs_ids_guessed_reads_or_changes_bs_rows(client, world):
    b, alice = world["b"], world["alice"]
    client.force_login(alice)
    before = _state_of_b(b)
    problems = []
    for name, pattern in _patterns(lambda n: not n.startswith("api-")):
        for kwargs in _guesses(pattern, b, world["account"]):
            url = reverse(name, kwargs=kwargs)
            for method in ("get", "post"):
                payload = {
                    "status": ["failed", "unknown"],
                    "contacts": [b["contact"].pk],
                    "contact_list": b["list"].pk,
                    "action": "delete",
                }
                response = getattr(client, method)(url, payload)
                body = _read(response)
                if response.status_code >= 500:
                    problems.append(f"{method.upper()} {url} answered {response.status_code}")
                # A number A typed into the URL is A's own words echoed: not a leak of B's.
                leaks = [leak for leak in _leaks(body) if leak not in url]
                problems += [f"{method.upper()} {url}: {leak}" for leak in leaks]

    assert problems == []
    assert _state_of_b(b) == before
    assert not Message.objects.filter(created_by=alice).exclude(department__name="Alpha").exists()


@pytest.mark.parametrize(
    "url_name",
    [
        "messaging:message_detail",
        "messaging:message_cancel",
        "messaging:message_retry",
        "messaging:conversation",
        "messaging:conversation_reply",
        "recurring:detail",
        "recurring:edit",
        "recurring:pause",
        "recurring:delete",
    ],
)
def test_bs_ids_are_not_found(client, world, url_name):
    client.force_login(world["alice"])
    b = world["b"]
    pk = {"messaging": b["message"].pk, "recurring": b["schedule"].pk}[url_name.split(":")[0]]
    if url_name.startswith("messaging:conversation"):
        pk = b["conversation"].pk
    url = reverse(url_name, args=[pk])

    assert client.get(url).status_code in (404, 405)
    assert client.post(url, {"text": "hijack", "token": "t"}).status_code == 404


def test_no_api_endpoint_with_bs_ids_reads_or_changes_bs_rows(world, settings):
    # Hundreds of requests, after other tests' in the same minute: the limit may refuse the last.
    settings.API_THROTTLE_RATE = ""
    b, a = world["b"], world["a"]
    call = Caller(a["secret"])
    before = _state_of_b(b)
    problems = []
    for name, pattern in [*_patterns(lambda n: n.startswith("api-")), *_api_lists()]:
        kwargs_list = _guesses(pattern, b, world["account"]) if pattern else [{}]
        for kwargs in kwargs_list:
            url = reverse(name, kwargs=kwargs)
            for method in ("GET", "POST", "PATCH", "PUT", "DELETE"):
                payload = None if method in ("GET", "DELETE") else {"name": "x", "text": "x"}
                response = call(method, url, payload)
                if response.status_code >= 500:
                    problems.append(f"{method} {url} answered {response.status_code}")
                leaks = [leak for leak in _leaks(_read(response)) if leak not in url]
                problems += [f"{method} {url}: {leak}" for leak in leaks]

    assert problems == []
    assert _state_of_b(b) == before
    own = call("GET", reverse("api-messages")).json()
    assert [m["text"] if "text" in m else m.get("body") for m in own["results"]] == [
        "Alpha-own offer"
    ]


def _api_lists():
    names = [
        "api-messages",
        "api-inbox",
        "api-accounts",
        "api-sender-ids",
        "api-contacts",
        "api-lists",
    ]
    return [(name, None) for name in names]


def test_bs_message_is_not_found_through_as_key(world):
    call = Caller(world["a"]["secret"])
    pk = world["b"]["message"].pk

    assert call("GET", reverse("api-message", args=[pk])).status_code == 404
    assert call("POST", reverse("api-message-cancel", args=[pk])).status_code == 404


def test_the_admin_shows_a_staff_member_only_their_departments_rows(client, world):
    alice = world["alice"]
    alice.is_staff = True
    alice.save()
    alice.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_message", "view_delivery", "view_apikey"])
    )
    client.force_login(alice)
    b = world["b"]

    listing = client.get("/admin/messaging/message/").content.decode()
    deliveries = client.get("/admin/messaging/delivery/").content.decode()
    keys = client.get("/admin/api/apikey/").content.decode()

    assert "Alpha-own offer" in listing
    assert _leaks(listing) == _leaks(deliveries) == _leaks(keys) == []
    assert client.get(f"/admin/messaging/message/{b['message'].pk}/change/").status_code in (
        302,
        404,
    )


def test_the_inbox_badge_counts_only_the_users_threads(client, world):
    client.force_login(world["alice"])
    page = client.get(reverse("messaging:inbox")).content.decode()

    nav = page.partition('id="mainnav"')[2].partition("</nav>")[0]
    assert re.search(r"badge[^>]*>\s*1\s*<", nav), nav[:2000]
    assert _leaks(page) == []
