"""Retire asks first: what still uses the sender ID on its account, and what retiring does."""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from smsportal.departments.models import Department
from smsportal.messaging.models import Message
from smsportal.recurring.models import RecurringSend
from smsportal.routing.models import AccountRouting, Route, RouteAccount
from smsportal.senders.models import SenderStatus
from smsportal.senders.uses import SHOWN
from tests.factories import ProviderAccountFactory, SenderIDFactory

pytestmark = pytest.mark.django_db


def scheduled(
    account, sender: str, status: str = Message.Status.SCHEDULED, department=None
) -> Message:
    return Message.objects.create(
        account=account,
        department=department,
        sender=sender,
        body="Sale tomorrow",
        encoding="gsm7",
        segments=1,
        status=status,
        scheduled_for=timezone.now() + timedelta(days=1),
    )


def recurring(account, sender: str, name: str, **fields) -> RecurringSend:
    schedule = RecurringSend(
        name=name,
        account=account,
        sender=sender,
        text="Team meeting at 10",
        frequency="daily",
        time_of_day=time(9, 0),
        timezone="UTC",
        starts_on=date(2026, 11, 30),
        **fields,
    )
    schedule.plan()
    schedule.save()
    return schedule


def route(name: str, sender: str, *accounts, is_active: bool = True) -> Route:
    made = Route.objects.create(name=name, sender=sender, is_active=is_active)
    for position, account in enumerate(accounts):
        RouteAccount.objects.create(route=made, account=account, position=position)
    return made


def uses_on_page(client, sender) -> str:
    response = client.get(reverse("senders:retire", args=[sender.pk]))
    assert response.status_code == 200
    match = re.search(r'<ul id="sender-uses">(.*?)</ul>', response.content.decode(), re.S)
    assert match, "the page lists no uses"
    return match.group(1)


def test_retire_asks_first_and_shows_what_still_uses_the_sender(manager_client, provider):
    sender = SenderIDFactory(value="ACME")
    account = sender.account
    other = ProviderAccountFactory(name="Other")
    messages = [scheduled(account, "ACME") for _ in range(3)]
    scheduled(account, "ACME", status=Message.Status.DONE)  # sent already
    scheduled(account, "OTHER")
    scheduled(other, "ACME")  # another account's own ACME
    recurring(account, "ACME", "Weekly promo")
    recurring(account, "ACME", "Paused promo", paused=True)
    ended = recurring(account, "ACME", "Ended promo")
    RecurringSend.objects.filter(pk=ended.pk).update(next_at=None)
    AccountRouting.objects.create(account=account, default_sender="acme")  # as routing: any case
    vip = route("VIP customers", "Acme", account)
    route("Elsewhere", "ACME", other)
    route("Switched off", "ACME", account, is_active=False)

    html = uses_on_page(manager_client, sender)

    assert "3 scheduled messages not yet sent" in html
    for message in messages:
        assert f'href="{message.get_absolute_url()}"' in html
    assert "They wait, unsent, until their sender ID is changed." in html
    assert "1 active recurring send" in html and "Weekly promo" in html
    assert "1 paused recurring send" in html and "Paused promo" in html
    assert "Ended promo" not in html
    assert "refused until another sender ID is chosen" in html
    assert "default sender ID for routed messages" in html
    assert reverse("routing:index") in html
    assert "1 route whose sender condition names it" in html
    assert reverse("routing:route_edit", args=[vip.pk]) in html
    assert "Elsewhere" not in html and "Switched off" not in html
    sender.refresh_from_db()
    assert sender.status == SenderStatus.ACTIVE  # asking retires nothing


def test_the_confirmation_retires_and_keep_it_goes_back(manager_client, provider):
    sender = SenderIDFactory(value="ACME")
    page = manager_client.get(reverse("senders:retire", args=[sender.pk])).content.decode()
    assert "Keep it" in page
    assert f'href="{reverse("senders:list")}?account={sender.account_id}"' in page

    response = manager_client.post(reverse("senders:retire", args=[sender.pk]))

    assert response.status_code == 302
    sender.refresh_from_db()
    assert sender.status == SenderStatus.RETIRED


def test_an_unused_sender_gets_a_plain_confirmation(manager_client, provider):
    sender = SenderIDFactory(value="ACME")
    scheduled(ProviderAccountFactory(), "ACME")  # another account's

    html = manager_client.get(reverse("senders:retire", args=[sender.pk])).content.decode()

    assert 'id="sender-uses"' not in html
    assert "Nothing on this account uses it now" in html
    assert "Retire" in html and "Keep it" in html


def test_many_uses_are_counted_in_a_fixed_number_of_queries(manager_client, provider):
    sender = SenderIDFactory(value="ACME")
    account = sender.account
    scheduled(account, "ACME")
    recurring(account, "ACME", "Promo 0")
    route("Route 0", "ACME", account)
    url = reverse("senders:retire", args=[sender.pk])
    with CaptureQueriesContext(connection) as few:
        manager_client.get(url)

    for n in range(1, SHOWN + 3):
        scheduled(account, "ACME")
        recurring(account, "ACME", f"Promo {n}")
        route(f"Route {n}", "ACME", account)
    with CaptureQueriesContext(connection) as many:
        html = uses_on_page(manager_client, sender)

    assert len(many) == len(few)
    assert f"{SHOWN + 3} scheduled messages not yet sent" in html
    assert html.count('href="/messages/') == SHOWN + 1  # the first few, and the rest filtered
    assert "and 3 more on the Messages page" in html
    assert f"{SHOWN + 3} active recurring sends" in html and f"{SHOWN + 3} routes" in html


def test_the_list_leads_to_the_confirmation_rather_than_retiring_at_once(manager_client, provider):
    sender = SenderIDFactory(value="ACME")

    html = manager_client.get(reverse("senders:list")).content.decode()

    retire = reverse("senders:retire", args=[sender.pk])
    assert f'href="{retire}"' in html
    assert f'action="{retire}"' not in html


def test_operators_neither_see_retire_nor_reach_its_confirmation(operator_client, provider):
    sender = SenderIDFactory(value="ACME")

    html = operator_client.get(reverse("senders:list")).content.decode()
    response = operator_client.get(reverse("senders:retire", args=[sender.pk]))

    assert "Retire" not in html
    assert response.status_code == 403


def test_a_retired_sender_is_not_asked_about_again(manager_client, provider):
    sender = SenderIDFactory(value="ACME", status=SenderStatus.RETIRED)

    response = manager_client.get(reverse("senders:retire", args=[sender.pk]), follow=True)

    assert "already retired" in response.content.decode()


def test_a_paused_recurring_send_is_listed_as_paused_and_an_ended_one_not(manager_client, provider):
    """Resumed, a paused recurring send would be refused: retiring affects it too."""
    sender = SenderIDFactory(value="ACME")
    paused = recurring(sender.account, "ACME", "Paused promo", paused=True)
    ended = recurring(sender.account, "ACME", "Ended promo", paused=True)
    RecurringSend.objects.filter(pk=ended.pk).update(next_at=None)

    html = uses_on_page(manager_client, sender)

    assert "1 paused recurring send" in html and "active recurring send" not in html
    assert f'href="{paused.get_absolute_url()}"' in html
    assert "It is paused; once resumed, its runs are refused" in html
    assert "Ended promo" not in html


def test_retiring_the_default_sender_says_the_account_loses_its_default(manager_client, provider):
    sender = SenderIDFactory(value="ACME", is_default=True)
    other = SenderIDFactory(value="OTHER", account=sender.account)
    url = reverse("senders:retire", args=[sender.pk])

    html = manager_client.get(url).content.decode()
    plain = manager_client.get(reverse("senders:retire", args=[other.pk])).content.decode()

    assert 'id="sender-default"' in html
    assert "It is the default sender ID of" in html
    assert "new messages start on the provider's default sender" in html
    assert 'id="sender-default"' not in plain
    manager_client.post(url)
    sender.refresh_from_db()
    assert sender.status == SenderStatus.RETIRED and not sender.is_default


def _more(html: str) -> list[str]:
    """The hrefs of the page's "and N more" links, in order."""
    return [unescape(url) for url in re.findall(r'<a href="([^"]+)" class="use-more">', html)]


def _unseen(html: str) -> list[str]:
    return re.findall(r'<div class="small use-unseen">([^<]*)</div>', html)


def test_the_rest_of_the_scheduled_messages_open_the_list_of_this_sender_ids_only(
    manager_client, provider
):
    """The link led to every scheduled message of the account, whatever its sender ID."""
    sender = SenderIDFactory(value="ACME")
    account = sender.account
    acme = [scheduled(account, "ACME") for _ in range(SHOWN + 2)]
    scheduled(account, "PROMO")  # the same account's other sender ID
    scheduled(account, "ACME", status=Message.Status.DONE)

    (more,) = _more(uses_on_page(manager_client, sender))
    listed = manager_client.get(more).content.decode()

    query = urlencode({"status": "scheduled", "account": account.pk, "sender": "ACME"})
    assert more == f"{reverse('messaging:message_list')}?{query}"
    assert _listed(listed) == sorted(m.pk for m in acme)  # all of them: the five named too


def _listed(page: str) -> list[int]:
    """The ids of the messages a page of the messages list shows, sorted."""
    found = re.findall(r'<td class="card-lead"><a href="[^"]+">(\d+)</a>', page)
    return sorted(int(pk) for pk in found)


def test_other_departments_messages_are_counted_and_said_to_be_out_of_reach(
    manager_client, manager, provider
):
    """A Manager of General: retiring holds Bravo's messages too, so they are counted, but the
    link shows only those the Manager may open, and the page says how many it leaves out."""
    sender = SenderIDFactory(value="ACME")
    account = sender.account
    general = Department.objects.get(name="General")
    bravo = Department.objects.create(name="Bravo")
    ours = [scheduled(account, "ACME", department=general) for _ in range(SHOWN + 2)]
    everyones = scheduled(account, "ACME")  # of no department: everyone's
    for _ in range(3):
        scheduled(account, "ACME", department=bravo)

    html = uses_on_page(manager_client, sender)
    (more,) = _more(html)
    listed = manager_client.get(more).content.decode()

    assert f"{SHOWN + 6} scheduled messages not yet sent" in html
    assert "and 3 more on the Messages page" in html  # 8 the Manager may open, 5 named
    assert _unseen(html) == ["3 of them are in other departments: you cannot open them."]
    assert _listed(listed) == sorted([m.pk for m in ours] + [everyones.pk])


def test_a_superuser_is_told_of_no_department_out_of_reach(client, provider, django_user_model):
    sender = SenderIDFactory(value="ACME")
    bravo = Department.objects.create(name="Bravo")
    made = [scheduled(sender.account, "ACME", department=bravo) for _ in range(SHOWN + 1)]
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "x"))

    html = uses_on_page(client, sender)
    (more,) = _more(html)

    assert "and 1 more on the Messages page" in html
    assert _unseen(html) == []
    assert _listed(client.get(more).content.decode()) == sorted(m.pk for m in made)


def test_messages_all_in_other_departments_get_no_link_but_a_word(manager_client, provider):
    sender = SenderIDFactory(value="ACME")
    bravo = Department.objects.create(name="Bravo")
    for _ in range(SHOWN + 1):
        scheduled(sender.account, "ACME", department=bravo)
    alone = SenderIDFactory(value="SOLO", account=sender.account)
    scheduled(sender.account, "SOLO", department=bravo)

    html = uses_on_page(manager_client, sender)
    one = uses_on_page(manager_client, alone)

    assert f"{SHOWN + 1} scheduled messages not yet sent" in html
    assert 'href="/messages/' not in html and _more(html) == []
    assert _unseen(html) == ["All of them are in other departments: you cannot open them."]
    assert _unseen(one) == ["It is in another department: you cannot open it."]


def test_the_rest_of_the_recurring_sends_open_the_list_of_this_sender_ids_only(
    manager_client, provider
):
    """The link led to every recurring send of the user's departments, none of them marked
    while the sender ID is still active (the list marks only those it can no longer send)."""
    sender = SenderIDFactory(value="ACME")
    account = sender.account
    general = Department.objects.get(name="General")
    bravo = Department.objects.create(name="Bravo")
    ours = [recurring(account, "ACME", f"Promo {n}", department=general) for n in range(SHOWN + 1)]
    recurring(account, "PROMO", "Another sender's", department=general)
    recurring(ProviderAccountFactory(name="Other"), "ACME", "Another account's")
    recurring(account, "ACME", "Bravo's", department=bravo)

    html = uses_on_page(manager_client, sender)
    (more,) = _more(html)
    listed = manager_client.get(more).content.decode()

    query = urlencode({"account": account.pk, "sender": "ACME"})
    assert more == f"{reverse('recurring:list')}?{query}"
    assert f"{SHOWN + 2} active recurring sends" in html and "and 1 more on the" in html
    assert _unseen(html) == ["1 of them is in another department: you cannot open it."]
    names = re.findall(r'<td class="card-lead"><a href="[^"]+" dir="auto">([^<]*)</a>', listed)
    assert sorted(names) == sorted(schedule.name for schedule in ours)
    assert 'id="sender-filter"' in listed and "From sender ID <bdi>ACME</bdi>" in listed
    assert f'href="{reverse("recurring:list")}"' in listed  # the way back to every one
