"""Figures are scoped like messages: staff read their departments' deliveries, counts and costs
on the reports page, its charts and the dashboard, never another department's; a superuser
reads them all. The daily counters carry the department of each delivery's message, on every
path that moves them (sending, the worker, delivery reports on both databases)."""

from __future__ import annotations

import importlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from smsportal.core.models import Preference
from smsportal.core.roles import OPERATOR
from smsportal.departments.models import Department
from smsportal.messaging.daily_stats import Transitions, computed_from_deliveries, current
from smsportal.messaging.delivery_reports.apply import apply_status_update
from smsportal.messaging.models import DailyDeliveryStats, Delivery
from smsportal.messaging.sending import ResolvedRecipients
from smsportal.providers.backends.base import StatusUpdate
from smsportal.reports import queries
from smsportal.sms.status import DeliveryStatus
from tests.factories import ProviderAccountFactory, UserFactory
from tests.support.sending import create_message

pytestmark = pytest.mark.django_db

B_REASON = "ZULU-77"


@pytest.fixture
def world(account, django_capture_on_commit_callbacks):
    """Department A sent to two Kuwaiti numbers (one delivered); B to three Saudi numbers, each
    undelivered with B's own error code. Every status moved by a delivery report."""
    alpha, bravo = Department.objects.create(name="Alpha"), Department.objects.create(name="Bravo")
    sent = {}
    for department, phones in (
        (alpha, ["+96550000001", "+96550000002"]),
        (bravo, ["+966500000001", "+966500000002", "+966500000003"]),
    ):
        with django_capture_on_commit_callbacks(execute=True):  # the worker sends it
            message = create_message(
                account=account,
                body="Hi",
                recipients=ResolvedRecipients(phones=phones),
                department=department,
            )
        sent[department.name] = message.deliveries.order_by("id")
    assert all(d.status == DeliveryStatus.SUBMITTED for d in Delivery.objects.all())
    first_of_a = sent["Alpha"].first()
    reports = [(first_of_a, DeliveryStatus.DELIVERED, "")] + [
        (d, DeliveryStatus.UNDELIVERED, B_REASON) for d in sent["Bravo"]
    ]
    for delivery, status, code in reports:
        update = StatusUpdate(
            provider_message_id=delivery.provider_message_id,
            recipient=delivery.phone,
            status=status,
            provider_status=code,
        )
        assert apply_status_update(account, update) == 1
    operator = UserFactory(username="alpha-operator")
    operator.groups.add(Group.objects.get(name=OPERATOR))
    alpha.members.add(operator)
    return alpha, bravo, operator


def test_the_counters_keep_each_department_apart(world):
    alpha, bravo, _ = world
    assert current() == computed_from_deliveries()  # the running totals, as the deliveries say
    today = timezone.localdate()
    sent = {
        key: figures.sent
        for key in (alpha.pk, bravo.pk)
        for figures in queries.totals_by_account(today, today, [key]).values()
    }
    assert sent == {alpha.pk: 2, bravo.pk: 3}
    assert sum(f.sent for f in queries.totals_by_account(today, today, None).values()) == 5


def test_an_operator_reads_only_their_departments_figures(client, world):
    _, _, operator = world
    client.force_login(operator)
    answer = client.get(reverse("reports:index"))
    context = answer.context
    totals = sum(figures.sent for _, figures in context["days"])
    assert totals == 2
    assert [(status, reason) for status, reason, _ in context["reasons"]] == []
    assert [name for name, _ in context["countries"]] == ["KW (+965)"]
    assert sum(f.sent for _, f in context["providers"]) == 2
    page = answer.content.decode()
    assert B_REASON not in page
    assert "SA (+966)" not in page
    assert "The messages of your departments only: Alpha." in page
    assert [(name, f.sent) for name, f in context["by_department"]] == [("Alpha", 2)]

    dashboard = client.get(reverse("dashboard")).context
    (row,) = dashboard["rows"]
    assert [figures.sent if figures else 0 for _, figures in row["periods"]] == [2, 2, 2]


def test_a_user_in_no_department_is_told_whose_figures_they_read(
    client, world, account, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # e.g. an automatic reply: no one's
        create_message(
            account=account,
            body="Thanks",
            recipients=ResolvedRecipients(phones=["+96550000009"]),
            department=None,
        )
    loner = UserFactory(username="loner")
    loner.groups.add(Group.objects.get(name=OPERATOR))
    client.force_login(loner)

    answer = client.get(reverse("reports:index"))

    assert sum(figures.sent for _, figures in answer.context["days"]) == 1  # only that message
    page = answer.content.decode()
    assert "your departments only" not in page
    assert (
        "You are in no department, so these figures count only the messages that belong to no "
        "department: ask a Manager to add you to one."
    ) in page


def test_a_superuser_reads_every_department(client, world):
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    context = client.get(reverse("reports:index")).context
    assert sum(figures.sent for _, figures in context["days"]) == 5
    assert [reason for _, reason, _ in context["reasons"]] == [B_REASON]
    assert {name for name, _ in context["countries"]} == {"KW (+965)", "SA (+966)"}
    assert context["departments"] is None  # nothing said: the figures are everyone's
    rows = [(name, f.sent, f.delivered, f.delivery_rate) for name, f in context["by_department"]]
    assert rows == [("Bravo", 3, 0, 0.0), ("Alpha", 2, 1, 100.0)]


def test_the_export_follows_the_same_scope(client, world):
    _, _, operator = world
    client.force_login(operator)
    week = {"since": (timezone.localdate() - timedelta(days=6)).isoformat()}
    answer = client.get(reverse("reports:export"), week)
    body = b"".join(answer.streaming_content).decode()
    assert body.count("+965") == 2
    assert "+966" not in body


def test_a_message_of_no_department_counts_for_everyone(account):
    """An automatic reply to a number no department wrote to has no department: its figures
    are everyone's, as the message is (messaging.scope)."""
    moves = Transitions()
    moves.add(timezone.localdate(), account.pk, None, DeliveryStatus.SUBMITTED, cost=Decimal("1"))
    moves.apply()
    today = timezone.localdate()
    keys = [0, Department.objects.create(name="Alpha").pk]
    assert queries.totals_by_account(today, today, keys)[account.pk].sent == 1


def test_the_upgrade_counts_the_figures_so_far_by_department(world):
    """Before departments were counted, every row had department 0 (everyone's): the migration
    counts them again from the deliveries, each in its department."""
    from django.apps import apps

    upgrade = importlib.import_module("smsportal.messaging.migrations.0019_daily_stats_department")
    alpha, bravo, _ = world
    right = current()
    merged: dict[tuple, list] = {}  # the rows as they stood before: every department together
    for row in DailyDeliveryStats.objects.all():
        entry = merged.setdefault((row.day, row.account_id, row.status, row.reason), [0, 0])
        entry[0] += row.count
        entry[1] += row.cost
    DailyDeliveryStats.objects.all().delete()
    DailyDeliveryStats.objects.bulk_create(
        DailyDeliveryStats(day=d, account_id=a, status=s, reason=r, count=n, cost=c)
        for (d, a, s, r), (n, c) in merged.items()
    )
    assert {key[2] for key in current()} == {0}

    upgrade.count_by_department(apps, None)

    assert current() == right
    assert {key[2] for key in current()} == {alpha.pk, bravo.pk}


def test_the_department_table_says_what_its_delivery_rate_leaves_out(manager_client, manager):
    """KwtSMS and IntelliSoftware send no delivery reports, so their messages never reach the
    rate's count: 404 sent, 202 delivered reads "100.0%". The page says how many are left out,
    and through which providers; messages awaiting a report at ISMS are not among them, nor
    another department's, which the reader does not see."""
    alpha, bravo = Department.objects.create(name="Alpha"), Department.objects.create(name="Bravo")
    alpha.members.add(manager)
    today = timezone.localdate()
    for department, kind, status, count in (
        (alpha, "isms", DeliveryStatus.DELIVERED, 202),
        (alpha, "isms", DeliveryStatus.SUBMITTED, 5),
        (alpha, "kwtsms", DeliveryStatus.SUBMITTED, 150),
        (alpha, "intellisoftware", DeliveryStatus.SUBMITTED, 50),
        (alpha, "intellisoftware", DeliveryStatus.UNKNOWN, 2),
        (alpha, "intellisoftware", DeliveryStatus.FAILED, 7),  # never left the portal
        (bravo, "kwtsms", DeliveryStatus.SUBMITTED, 1000),
    ):
        DailyDeliveryStats.objects.create(
            day=today,
            account=ProviderAccountFactory(kind=kind),
            department_key=department.pk,
            status=status,
            count=count,
        )

    page = manager_client.get(reverse("reports:index")).content.decode()

    table = page[page.index('id="table-departments"') :]
    assert ">100.0%<" in table
    assert (
        "The rate counts only messages with a delivery report: 202 messages sent through "
        "accounts that send none (IntelliSoftware, KwtSMS) are not counted."
    ) in " ".join(table.split())


def test_no_note_when_every_account_reports_deliveries(manager_client):
    DailyDeliveryStats.objects.create(
        day=timezone.localdate(),
        account=ProviderAccountFactory(kind="isms"),
        status=DeliveryStatus.SUBMITTED,
        count=3,
    )

    page = manager_client.get(reverse("reports:index")).content.decode()

    assert "are not counted" not in page and "is not counted" not in page


def test_the_departments_are_listed_with_the_readers_comma(client, world):
    """An English ", " between the departments read wrong in Arabic: the list uses the reader's
    comma ("،"), as every list of the portal does (core.words.listed, the `listed` filter)."""
    _, bravo, operator = world
    bravo.members.add(operator)
    client.force_login(operator)
    page = client.get(reverse("reports:index")).content.decode()
    assert "The messages of your departments only: Alpha, Bravo." in page

    Preference.objects.create(user=operator, language="ar")
    page = client.get(reverse("reports:index")).content.decode()
    assert "Alpha، Bravo" in page
    assert "Alpha, Bravo" not in page


def test_the_dashboard_tells_a_user_in_no_department_whose_figures_they_read(client, world):
    loner = UserFactory(username="loner")
    loner.groups.add(Group.objects.get(name=OPERATOR))
    client.force_login(loner)

    page = client.get(reverse("dashboard")).content.decode()

    assert 'id="account-figures"' in page
    assert (
        '<div class="alert alert-warning" id="dashboard-scope">You are in no department, so '
        "these figures count only the messages that belong to no department: ask a Manager to "
        "add you to one.</div>"
    ) in page


def test_the_dashboard_of_a_user_in_a_department_or_a_superuser_has_no_such_notice(client, world):
    _alpha, _bravo, operator = world
    for user in (
        operator,
        UserFactory(username="root", is_superuser=True, is_staff=True),
    ):
        client.force_login(user)
        page = client.get(reverse("dashboard")).content.decode()
        assert 'id="account-figures"' in page and 'id="dashboard-scope"' not in page
