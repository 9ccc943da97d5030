"""The Routing page: Managers order routes, map senders and read which prefixes an earlier route
takes first; the dry-run says which account a number and text would use, and why."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from smsportal.routing.models import AccountRouting, DestinationPrice, Route, RouteAccount
from smsportal.routing.service import router_for
from tests.factories import ProviderAccountFactory, SenderIDFactory

pytestmark = pytest.mark.django_db


def route(name, destinations, *accounts, **fields):
    position = Route.objects.count() + 1
    saved = Route.objects.create(name=name, destinations=destinations, position=position, **fields)
    for n, account in enumerate(accounts):
        RouteAccount.objects.create(route=saved, account=account, position=n)
    return saved


@pytest.fixture
def two_accounts(db):
    kwt = ProviderAccountFactory(
        name="KwtSMS main", kind="kwtsms", price_per_segment=Decimal("0.02")
    )
    isms = ProviderAccountFactory(name="ISMS main", kind="isms", price_per_segment=Decimal("0.03"))
    return kwt, isms


def test_a_manager_creates_a_route_with_accounts_in_order(manager_client, two_accounts):
    kwt, isms = two_accounts
    response = manager_client.post(
        reverse("routing:route_create"),
        {
            "name": "Kuwait",
            "destinations": "KW, +96597",
            "message_type": "",
            "alphabet": "",
            "sender": "",
            "strategy": "ordered",
            "account_0": isms.pk,
            "account_1": kwt.pk,
        },
        follow=True,
    )
    saved = Route.objects.get()
    assert saved.destinations == "KW +96597"
    assert list(saved.steps.values_list("account__name", flat=True)) == ["ISMS main", "KwtSMS main"]
    assert "ISMS main → KwtSMS main" in re.sub(r"<[^>]+>", "", response.content.decode())


def test_a_route_with_a_bad_destination_or_an_account_twice_is_refused(
    manager_client, two_accounts
):
    kwt, _isms = two_accounts
    base = {"name": "X", "strategy": "ordered", "account_0": kwt.pk}
    response = manager_client.post(
        reverse("routing:route_create"), {**base, "destinations": "Kuwait"}
    )
    assert "neither a country code" in response.content.decode()
    response = manager_client.post(
        reverse("routing:route_create"), {**base, "destinations": "KW", "account_1": kwt.pk}
    )
    assert "An account is named twice in this route." in response.content.decode()
    assert not Route.objects.exists()


def test_the_page_shows_a_prefix_an_earlier_route_always_takes(manager_client, two_accounts):
    kwt, isms = two_accounts
    route("Kuwait", "KW", kwt)
    route("Kuwait mobiles", "+96597", isms)
    page = manager_client.get(reverse("routing:index")).content.decode()
    assert "+96597: the earlier route “Kuwait” takes these numbers first" in page


def test_routes_are_reordered_and_the_order_decides(manager_client, two_accounts):
    kwt, isms = two_accounts
    route("Kuwait", "KW", kwt)
    mobiles = route("Kuwait mobiles", "+96597", isms)
    assert router_for(body="Hi").choose("+96597000001").account == kwt.pk

    manager_client.post(reverse("routing:route_move", args=[mobiles.pk, "up"]))

    assert list(Route.objects.values_list("name", flat=True)) == ["Kuwait mobiles", "Kuwait"]
    assert router_for(body="Hi").choose("+96597000001").account == isms.pk


def test_the_dry_run_says_which_account_and_why(operator_client, two_accounts):
    kwt, isms = two_accounts
    DestinationPrice.objects.create(account=isms, prefix="965", price_per_part=Decimal("0.01"))
    route("Gulf", "KW SA", kwt, isms, strategy="cheapest")
    response = operator_client.get(
        reverse("routing:dry_run"),
        {"phone": "+965 9711 9440", "text": "Hello", "message_type": "text"},
    )
    page = response.content.decode()
    assert "+96597119440" in page
    assert "ISMS main is the cheapest that can send it" in page
    response = operator_client.get(
        reverse("routing:dry_run"),
        {"phone": "+44 7911 123456", "text": "Hello", "message_type": "text"},
    )
    assert "No route matches this number and message." in response.content.decode()


def test_the_dry_run_says_what_is_wrong_with_a_number_it_cannot_read(operator_client):
    for number in ("abc", "+44 7700 900123"):
        response = operator_client.get(
            reverse("routing:dry_run"),
            {"phone": number, "text": "Hello", "message_type": "text"},
            headers={"HX-Request": "true"},
        )
        page = response.content.decode()
        assert 'role="alert"' in page and "Number:" in page, page


def test_a_route_whose_accounts_cannot_carry_the_text_refuses_with_the_reason(two_accounts):
    kwt, _isms = two_accounts  # KwtSMS sends no flash messages
    route("Kuwait", "KW", kwt)
    choice = router_for(body="Hi", message_type="flash").choose("+96550000001")
    assert choice.account is None
    assert "KwtSMS main: it cannot send flash messages" in choice.reason


def test_the_sender_is_mapped_per_account_or_the_recipient_refused(two_accounts):
    kwt, isms = two_accounts
    SenderIDFactory(account=isms, value="SHOP")
    route("Kuwait", "KW", kwt, isms)
    router = router_for(body="Hi", sender="SHOP")
    choice = router.choose("+96550000001")
    assert choice.account == isms.pk  # KwtSMS has no SHOP and no default: passed over
    assert "KwtSMS main was passed over" in choice.reason
    assert router.candidates[isms.pk].sender == "SHOP"

    info = SenderIDFactory(account=kwt, value="KWT-INFO")
    AccountRouting.objects.create(account=kwt, default_sender="kwt-info")  # any case
    router = router_for(body="Hi", sender="SHOP")
    assert router.choose("+96550000001").account == kwt.pk
    assert router.candidates[kwt.pk].sender == "KWT-INFO"

    assert router_for(body="Hi", sender="shop").candidates[isms.pk].sender == "SHOP"

    info.status = "retired"  # the default can no longer be sent from: not used
    info.save()
    choice = router_for(body="Hi", sender="OTHER").choose("+96550000001")
    assert choice.account is None
    assert (
        "it has no sender ID “OTHER”, and its default sender for routed messages, “kwt-info”, "
        "can no longer be sent from"
    ) in choice.reason

    choice = router_for(body="Hi", sender="KWT-INFO").choose("+96550000001")
    assert "its sender ID “KWT-INFO” can no longer be sent from" in choice.reason

    route("Saudi", "SA", kwt, sender="")
    AccountRouting.objects.filter(account=kwt).update(default_sender="")
    choice = router_for(body="Hi", sender="OTHER").choose("+966500000001")
    assert choice.account is None
    assert "no sender ID “OTHER”" in choice.reason


def test_operators_read_the_page_but_cannot_change_routes(operator_client, two_accounts):
    kwt, _isms = two_accounts
    saved = route("Kuwait", "KW", kwt)
    page = operator_client.get(reverse("routing:index")).content.decode()
    assert "Kuwait" in page
    assert "Add route" not in page
    assert operator_client.post(reverse("routing:route_delete", args=[saved.pk])).status_code == 403
    assert operator_client.get(reverse("routing:route_create")).status_code == 403
    assert Route.objects.exists()


def test_without_javascript_the_dry_run_answer_is_scrolled_into_view(operator_client):
    """The form's plain GET goes to the card (below the tables on a phone), not the page's top."""
    page = operator_client.get(reverse("routing:index")).content.decode()
    form = re.search(r'<form method="get" action="([^"]+)"[^>]*id="dry-run-form"', page)
    assert form and form.group(1).endswith("#try-a-number")
    assert 'id="try-a-number"' in page


def _default_sender_select(page: str, account) -> list[tuple[str, str, bool]]:
    """(value, words, selected) of each option of the account's default sender select."""
    select = re.search(
        rf'<select [^>]*id="default-sender-{account.pk}"[^>]*>(.*?)</select>', page, re.S
    ).group(1)
    return [
        (value, words.strip(), " selected" in attrs)
        for value, attrs, words in re.findall(r'<option value="([^"]*)"([^>]*)>([^<]*)<', select)
    ]


def test_the_default_sender_for_routed_messages_is_chosen_among_usable_sender_ids(
    manager_client, two_accounts
):
    kwt, isms = two_accounts
    SenderIDFactory(account=kwt, value="KWT-INFO")
    SenderIDFactory(account=kwt, value="OLD", status="retired")
    SenderIDFactory(account=isms, value="SHOP")
    url = reverse("routing:account_settings", args=[kwt.pk])

    page = manager_client.get(reverse("routing:index")).content.decode()
    assert _default_sender_select(page, kwt) == [
        ("", "None: such recipients are refused", True),
        ("KWT-INFO", "KWT-INFO", False),
    ]

    for refused, says in [
        ("OLD", "OLD has been retired and can no longer be sent from"),
        ("SHOP", "SHOP is not a sender ID of KwtSMS main"),
    ]:
        answer = manager_client.post(url, {"default_sender": refused}, follow=True)
        assert says in answer.content.decode()
        assert not AccountRouting.objects.exclude(default_sender="").exists()

    manager_client.post(url, {"default_sender": "KWT-INFO"})
    assert AccountRouting.objects.get(account=kwt).default_sender == "KWT-INFO"


def test_a_default_sender_retired_since_is_marked_with_what_it_means(manager_client, two_accounts):
    kwt, _isms = two_accounts
    SenderIDFactory(account=kwt, value="KWT-INFO", status="retired")
    AccountRouting.objects.create(account=kwt, default_sender="KWT-INFO")

    page = manager_client.get(reverse("routing:index")).content.decode()

    assert _default_sender_select(page, kwt) == [
        ("", "None: such recipients are refused", False),
        ("KWT-INFO", "KWT-INFO (retired — choose another)", True),
    ]
    warning = re.search(r'default-sender-problem">(.*?)</div>', page, re.S).group(1)
    assert "KWT-INFO has been retired" in warning
    assert "Until then, routes pass this account over" in warning


def test_the_accounts_default_senders_are_read_in_one_query_whatever_their_number(
    manager_client, two_accounts, django_assert_max_num_queries
):
    kwt, _isms = two_accounts
    SenderIDFactory(account=kwt, value="KWT-INFO")
    AccountRouting.objects.create(account=kwt, default_sender="KWT-INFO")
    manager_client.get(reverse("routing:index"))  # warm: session, user, permissions
    with django_assert_max_num_queries(20) as few:
        manager_client.get(reverse("routing:index"))
    for n in range(6):
        account = ProviderAccountFactory(name=f"More {n}", kind="kwtsms")
        SenderIDFactory(account=account, value=f"S{n}")
        AccountRouting.objects.create(account=account, default_sender=f"S{n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        manager_client.get(reverse("routing:index"))


def test_an_operator_reads_the_retired_default_sender_without_being_told_to_choose(
    operator_client, two_accounts
):
    kwt, _isms = two_accounts
    SenderIDFactory(account=kwt, value="KWT-INFO", status="retired")
    AccountRouting.objects.create(account=kwt, default_sender="KWT-INFO")

    page = operator_client.get(reverse("routing:index")).content.decode()

    assert 'id="default-sender-' not in page  # no select: Operators cannot change it
    assert '<bdi>KWT-INFO</bdi> <span class="badge text-bg-warning">retired</span>' in page
    warning = re.search(r'default-sender-problem">(.*?)</div>', page, re.S).group(1)
    assert "It can no longer be sent from: routes pass this account over" in warning
    assert "choose another" not in warning


# --- the accounts' table: the routes that send through each, and its circuit breaker ----------


def _cell(page: str, name: str, account) -> str:
    """The words of the account's cell `name` ("routes-through", "breaker"), tags left out."""
    cell = re.search(rf'<td [^>]*id="{name}-{account.pk}"[^>]*>(.*?)</td>', page, re.S).group(1)
    return " ".join(re.sub(r"<[^>]+>", "", cell.replace("<br>", " ")).split())


def test_the_accounts_table_names_the_routes_that_send_through_each_account(
    operator_client, two_accounts
):
    kwt, isms = two_accounts
    spare = ProviderAccountFactory(name="Spare", kind="kwtsms")
    route("Kuwait", "KW", kwt)
    route("Gulf", "SA AE", isms, kwt, strategy="cheapest")
    route("Old Saudi", "SA", spare, is_active=False)
    unused = ProviderAccountFactory(name="Unused", kind="kwtsms")

    page = operator_client.get(reverse("routing:index")).content.decode()

    assert "In routes" not in page
    assert _cell(page, "routes-through", kwt) == "Kuwait, Gulf"
    assert _cell(page, "routes-through", isms) == "Gulf"
    assert _cell(page, "routes-through", spare) == "no active route Old Saudi inactive"
    assert _cell(page, "routes-through", unused) == "no route"
    for account in (kwt, isms, spare, unused):
        assert _cell(page, "breaker", account) == "not taken out"


def test_the_accounts_table_says_when_the_breaker_took_an_account_out_and_until_when(
    manager_client, two_accounts
):
    kwt, isms = two_accounts
    route("Kuwait", "KW", kwt)
    until = timezone.now() + timedelta(minutes=5)
    AccountRouting.objects.create(account=kwt, not_sent_failures=5, out_until=until)
    AccountRouting.objects.create(  # taken out once, and its time is over: back in
        account=isms, not_sent_failures=5, out_until=timezone.now() - timedelta(minutes=1)
    )

    page = manager_client.get(reverse("routing:index")).content.decode()

    when = timezone.localtime(until).strftime("%H:%M")
    assert _cell(page, "breaker", kwt) == (
        f"Taken out of routes after 5 failed attempts, until {when} Put back"
    )
    assert _cell(page, "routes-through", kwt) == "Kuwait"  # still named: it comes back
    assert _cell(page, "breaker", isms) == "not taken out"
    assert _cell(page, "routes-through", isms) == "no route"


def test_an_inactive_account_is_marked_beside_its_name(operator_client, two_accounts):
    kwt, _isms = two_accounts
    kwt.is_active = False
    kwt.save()
    route("Kuwait", "KW", kwt)

    page = operator_client.get(reverse("routing:index")).content.decode()

    lead = re.search(rf'<td class="card-lead">(<a href="[^"]*/{kwt.pk}/".*?)</td>', page, re.S)
    assert "inactive" in lead.group(1)
    assert _cell(page, "routes-through", kwt) == "Kuwait"


def test_the_routes_and_breakers_of_more_accounts_cost_no_more_queries(
    manager_client, two_accounts, django_assert_max_num_queries
):
    kwt, isms = two_accounts
    route("Kuwait", "KW", kwt, isms)
    AccountRouting.objects.create(
        account=kwt, not_sent_failures=5, out_until=timezone.now() + timedelta(minutes=5)
    )
    manager_client.get(reverse("routing:index"))  # warm: session, user, permissions
    with django_assert_max_num_queries(20) as few:
        manager_client.get(reverse("routing:index"))
    for n in range(6):
        account = ProviderAccountFactory(name=f"More {n}", kind="kwtsms")
        route(f"Route {n}", f"+9655{n}", account, kwt, is_active=n % 2 == 0)
        AccountRouting.objects.create(
            account=account, not_sent_failures=5, out_until=timezone.now() + timedelta(minutes=5)
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = manager_client.get(reverse("routing:index")).content.decode()
    assert _cell(page, "routes-through", kwt) == "Kuwait, Route 0, Route 2, Route 4"
