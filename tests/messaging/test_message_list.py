"""The messages list: newest first, a keyset page at a time (`?before=` / `?after=` a message's
id), its filters kept across pages, a person's departments only, and a cost in queries that does
not grow with the number of messages or their recipients."""

from __future__ import annotations

import html
import re
import zoneinfo
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from smsportal.departments.models import Department
from smsportal.messaging.models import Message
from smsportal.messaging.progress import Progress
from smsportal.messaging.sending import ResolvedRecipients
from smsportal.messaging.views import messages as views
from tests.factories import ProviderAccountFactory
from tests.support.sending import create_message

pytestmark = pytest.mark.django_db

LIST = reverse("messaging:message_list")
KUWAIT = zoneinfo.ZoneInfo("Asia/Kuwait")


@pytest.fixture
def queued(settings):
    """Messages stay as Confirm leaves them (no worker): quick to make, and all alike."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def _send(account, body, *, recipients=1, **kwargs) -> Message:
    phones = [f"+965500{i:05d}" for i in range(recipients)]
    return create_message(
        account=account, body=body, recipients=ResolvedRecipients(phones=phones), **kwargs
    )


def _bodies(page: str) -> list[str]:
    """The texts of the listed messages, in the list's order."""
    found = re.findall(r'class="text-reset text-decoration-none" dir="auto">([^<]*)</a>', page)
    return [html.unescape(body) for body in found]


def _link(page: str, direction: str) -> str | None:
    """The href of the page's "after" (newer) or "before" (older) link."""
    found = re.search(rf'href="(\?[^"]*\b{direction}=\d+)"', page)
    return html.unescape(found.group(1)) if found else None


def _walk(client, start: str = "") -> tuple[list[list[str]], str]:
    """Every page from `start` following "Older →", and the last page's HTML."""
    pages, url = [], LIST + start
    while True:
        page = client.get(url).content.decode()
        pages.append(_bodies(page))
        older = _link(page, "before")
        if older is None:
            return pages, page
        url = LIST + older


def test_pages_walk_every_message_once_newest_first_and_back(
    operator_client, account, queued, monkeypatch
):
    monkeypatch.setattr(views, "PAGE_SIZE", 3)
    made = [_send(account, f"Message {i}") for i in range(8)]
    # Three sent in the same instant: the id orders them (the list's order: -created_at, -id).
    Message.objects.filter(pk__in=[m.pk for m in made[2:5]]).update(created_at=made[2].created_at)
    newest_first = [
        m.body
        for m in Message.objects.filter(pk__in=[m.pk for m in made]).order_by("-created_at", "-id")
    ]

    pages, last = _walk(operator_client)

    assert pages == [newest_first[0:3], newest_first[3:6], newest_first[6:8]]
    assert _link(last, "before") is None
    # Back up with "← Newer": the same pages, the newest page whole and without a "Newer".
    back = []
    page = last
    while (newer := _link(page, "after")) is not None:
        page = operator_client.get(LIST + newer).content.decode()
        back.append(_bodies(page))
    assert back == [newest_first[3:6], newest_first[0:3]]
    assert _link(page, "after") is None
    assert _link(page, "before") is not None


def test_a_short_newest_page_is_topped_up_to_a_whole_first_page(
    operator_client, account, queued, monkeypatch
):
    monkeypatch.setattr(views, "PAGE_SIZE", 3)
    made = [_send(account, f"Message {i}") for i in range(5)]
    # Two newer than the second message: fewer than a page, so "Newer" shows the first page.
    page = operator_client.get(f"{LIST}?after={made[2].pk}").content.decode()

    assert _bodies(page) == ["Message 4", "Message 3", "Message 2"]
    assert _link(page, "after") is None
    assert _link(page, "before") == f"?before={made[2].pk}"


def test_the_filters_hold_on_every_page(operator_client, account, queued, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    other = ProviderAccountFactory(kind="kwtsms", name="Other", max_parts=5)
    for i in range(5):
        _send(account, f"Ours {i}")
        _send(other, f"Theirs {i}")
    done = _send(account, "Ours done")
    Message.objects.filter(pk=done.pk).update(status=Message.Status.DONE)

    pages, last = _walk(operator_client, f"?account={account.pk}&status=draft")

    assert [b for page in pages for b in page] == [f"Ours {i}" for i in range(4, -1, -1)]
    assert (
        f"?status=draft&amp;account={account.pk}&amp;before="
        in operator_client.get(f"{LIST}?account={account.pk}&status=draft").content.decode()
    )
    newer = _link(last, "after")
    assert newer.startswith(f"?status=draft&account={account.pk}&after=")


def test_an_operator_pages_through_their_departments_and_the_organisations_only(
    client, operator, account, queued, monkeypatch
):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    bravo = Department.objects.create(name="Bravo")
    ours, theirs = [], []
    for i in range(4):
        ours.append(_send(account, f"General {i}"))
        theirs.append(_send(account, f"Bravo {i}", department=bravo))
    everyones = _send(account, "Everyone's")
    Message.objects.filter(pk=everyones.pk).update(department=None)
    client.force_login(operator)

    pages, _last = _walk(client)
    seen = [b for page in pages for b in page]

    assert seen == ["Everyone's", "General 3", "General 2", "General 1", "General 0"]
    # Bravo's message as a position is no position: the first page, and nothing of Bravo's.
    page = client.get(f"{LIST}?before={theirs[2].pk}").content.decode()
    assert _bodies(page) == ["Everyone's", "General 3"]
    assert "Bravo" not in page.split("<main", 1)[1]


def test_a_superuser_pages_through_every_department(
    client, account, queued, monkeypatch, django_user_model
):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    bravo = Department.objects.create(name="Bravo")
    for i in range(2):
        _send(account, f"General {i}")
        _send(account, f"Bravo {i}", department=bravo)
    root = get_user_model().objects.create_superuser("root", "root@example.com", "x")
    client.force_login(root)

    pages, _last = _walk(client)

    assert [b for page in pages for b in page] == ["Bravo 1", "General 1", "Bravo 0", "General 0"]


def test_an_old_page_number_link_gives_the_first_page(operator_client, account, queued):
    _send(account, "Hello")

    response = operator_client.get(f"{LIST}?page=7")

    assert response.status_code == 200
    assert _bodies(response.content.decode()) == ["Hello"]


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_list_costs_the_same_queries_for_few_or_many_messages_and_recipients(
    operator_client, account, queued
):
    operator_client.get(LIST)  # session and permissions cached alike
    _send(account, "Small")
    few = _queries(operator_client, LIST)

    other = ProviderAccountFactory(kind="isms", name="Second", max_parts=5)
    for i in range(12):
        _send(account if i % 2 else other, f"Big {i}", recipients=30)
    many = _queries(operator_client, LIST)
    paged = _queries(operator_client, f"{LIST}?before={Message.objects.order_by('-id')[3].pk}")

    assert few == many
    assert paged == many + 1  # the edge message's time


def test_the_list_reads_each_of_its_tables_once_and_counts_nothing(
    operator_client, account, queued
):
    _send(account, "Hello", recipients=3)
    operator_client.get(LIST)

    with CaptureQueriesContext(connection) as queries:
        operator_client.get(LIST)

    sqls = [q["sql"] for q in queries.captured_queries]
    read = [re.search(r'FROM "(\w+)"', sql).group(1) for sql in sqls]
    # The page of messages, the accounts (the filter's and each row's: no join per row), the
    # page's status counts; the person's departments are read as ids first (not a subquery of
    # the messages' query) and also tell whether they are in any department.
    assert [t for t in read if t in PAGE_TABLES] == [
        "messaging_message",
        "providers_provideraccount",
        "messaging_messagestatuscount",
    ]
    (page_query,) = [sql for sql in sqls if 'FROM "messaging_message"' in sql]
    assert "departments_department" not in page_query
    assert "providers_provideraccount" not in page_query
    assert not any("COUNT(" in sql.upper() for sql in sqls)
    assert "departments_department" in read[: read.index("messaging_message")]


PAGE_TABLES = {"providers_provideraccount", "messaging_message", "messaging_messagestatuscount"}


def test_a_user_in_no_department_still_sees_the_organisations_messages(client, account, queued):
    from django.contrib.auth.models import Group

    from smsportal.core.roles import OPERATOR
    from tests.factories import UserFactory

    everyones = _send(account, "For everyone")
    Message.objects.filter(pk=everyones.pk).update(department=None)
    _send(account, "General's")
    loner = UserFactory(username="loner")
    loner.groups.add(Group.objects.get(name=OPERATOR))
    client.force_login(loner)

    page = client.get(LIST).content.decode()

    assert _bodies(page) == ["For everyone"]
    assert f'href="{reverse("messaging:compose")}"' not in page.split("<main", 1)[1]


def _bar(counts: dict) -> str:
    return Template("{% load message_progress %}{% progress_bar p %}").render(
        Context({"p": Progress(counts)})
    )


def test_the_bar_draws_each_status_in_its_colour_with_counts_where_they_fit():
    bar = _bar({"delivered": 28, "failed": 1, "cancelled": 3, "queued": 0})

    assert bar.startswith('<div class="progress-stacked"')
    assert 'aria-label="28 delivered, 1 failed, 3 cancelled"' in bar
    assert bar.count('role="progressbar"') == 3
    assert 'style="width: 87.50%" aria-valuenow="28"' in bar
    assert 'aria-valuemax="32" title="28 delivered"' in bar
    assert 'style="width: 3.13%"' in bar  # 3.125 rounded half up, as floatformat did
    assert '<div class="progress-bar bg-success">28</div>' in bar
    assert '<div class="progress-bar bg-danger"></div>' in bar  # 3 %: no room for its number
    assert '<div class="progress-bar bg-light text-dark">3</div>' in bar  # 9.4 %


def test_the_bar_is_empty_for_a_message_without_recipients():
    assert _bar({}) == (
        '<div class="progress-stacked" style="height: 1.1rem" role="img" aria-label=""></div>'
    )


def test_the_created_column_keeps_its_schedule(operator_client, account, queued):
    when = timezone.now() + timedelta(days=2)
    _send(account, "Later", scheduled_for=when)

    page = operator_client.get(LIST).content.decode()

    assert f"for {when:%Y-%m-%d %H:%M}" in page


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="SQLite's plan (PostgreSQL's follows its statistics)"
)
@pytest.mark.parametrize("query", ["", "?status=draft", "?account={account}", "?before={last}"])
def test_a_page_is_an_ordered_index_walk_never_a_sort_of_every_message(
    superuser_client, account, queued, query
):
    made = [_send(account, f"Message {i}") for i in range(3)]
    url = LIST + query.format(account=account.pk, last=made[-1].pk)

    with CaptureQueriesContext(connection) as queries:
        assert superuser_client.get(url).status_code == 200
    (page_query,) = [
        q["sql"]
        for q in queries
        if 'FROM "messaging_message"' in q["sql"] and "LIMIT 51" in q["sql"]
    ]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + page_query)
        plan = " / ".join(row[-1] for row in cursor.fetchall())

    assert "USING INDEX" in plan and "TEMP B-TREE" not in plan, plan


@pytest.fixture
def superuser_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "x"))
    return client


def test_each_row_reads_in_the_readers_time_zone_with_its_text_shortened(
    operator_client, operator, account, queued
):
    from smsportal.core.models import Preference

    Preference.objects.update_or_create(user=operator, defaults={"time_zone": "Asia/Kuwait"})
    when = timezone.now() + timedelta(days=2)
    long = _send(account, "é" * 30 + "x" * 40, scheduled_for=when)
    _send(account, "e\u0301" * 60)  # sixty characters once composed (NFC), as truncatechars saw
    created = timezone.localtime(Message.objects.get(pk=long.pk).created_at, KUWAIT)

    page = operator_client.get(LIST).content.decode()

    assert _bodies(page) == ["é" * 60, "é" * 30 + "x" * 29 + "…"]
    assert (
        f'<td title="{created:%Y-%m-%d %H:%M:%S}" data-label="Created">{created:%Y-%m-%d %H:%M}<br>'
    ) in page
    assert f"for {timezone.localtime(when, KUWAIT):%Y-%m-%d %H:%M}" in page
    assert ">queued</span>" in page and ">1</td>" in page


def test_a_scheduled_message_held_past_its_time_is_marked_held_back(
    operator_client, account, queued
):
    later = _send(account, "Later", scheduled_for=timezone.now() + timedelta(hours=1))
    held = _send(account, "Held", scheduled_for=timezone.now() + timedelta(hours=1))
    reason = "Held: its sender ID ALERTS is retired. Change its sender ID to send it."
    Message.objects.filter(pk=held.pk).update(held_reason=reason)

    page = operator_client.get(LIST).content.decode()

    rows = {
        int(number): row
        for row in re.findall(r"<tr>.*?</tr>", page, re.S)
        for number in re.findall(r'<td class="card-lead"><a href="[^"]+">(\d+)</a>', row)
    }
    assert 'class="badge text-bg-warning message-held"' in rows[held.pk]
    assert f'title="{reason}"' in rows[held.pk]
    assert "message-held" not in rows[later.pk]
