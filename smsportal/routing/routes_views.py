"""The Routing page: the rules in order (Managers add, change, reorder and remove them), each
account's sender mapping and circuit breaker, the overlaps that make a prefix unreachable, and
the dry-run ("which account would this number and text use, and why")."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from smsportal.providers.models import ProviderAccount
from smsportal.senders.models import SenderID
from smsportal.senders.selectors import unusable, unusable_among
from smsportal.sms.phones import parse_phone

from .forms import AccountRoutingForm, DryRunForm, RouteForm
from .models import AccountRouting, Route, RouteAccount
from .service import out_of_routes, router_for, rule_of


def unreachable(routes: list[Route]) -> dict[int, list[str]]:
    """route id -> sentences about its prefixes that an earlier route always takes first."""
    taken: dict[str, Route] = {}
    found: dict[int, list[str]] = {}
    catch_all: Route | None = None
    for route in routes:
        if not route.is_active:
            continue
        rule = rule_of(route)
        conditional = rule.message_type or rule.alphabet or rule.sender
        for prefix in rule.prefixes:
            earlier = catch_all or next(
                (taken[prefix[:n]] for n in range(len(prefix), 0, -1) if prefix[:n] in taken),
                None,
            )
            if earlier is not None:
                found.setdefault(route.pk, []).append(
                    _(
                        "+%(prefix)s: the earlier route “%(earlier)s” takes these numbers first "
                        "(the first matching route wins)."
                    )
                    % {"prefix": prefix, "earlier": earlier.name}
                )
        if not conditional:
            for prefix in rule.prefixes:
                taken.setdefault(prefix, route)
            if not rule.prefixes and catch_all is None:
                catch_all = route
    return found


def routing_context(**extra) -> dict:
    routes = list(Route.objects.prefetch_related("steps__account"))
    accounts = list(ProviderAccount.objects.select_related("routing").order_by("name"))
    warnings = unreachable(routes)
    for route in routes:
        route.warnings = warnings.get(route.pk, [])
    states = {a.pk: getattr(a, "routing", None) for a in accounts}
    senders = default_sender_choices(accounts, states)
    through = routes_through(routes)
    return {
        "routes": routes,
        "accounts": [
            {
                "account": a,
                "state": states[a.pk],
                "routes": through.get(a.pk, {}).get(True, []),
                "inactive_routes": through.get(a.pk, {}).get(False, []),
                "out": out_of_routes(a),
                "default_sender": senders[a.pk],
            }
            for a in accounts
        ],
        "dry_run_form": DryRunForm(),
        **extra,
    }


def routes_through(routes: list[Route]) -> dict[int, dict[bool, list[Route]]]:
    """account id -> the routes that send through it, by whether they are active, in the
    routes' order: read from the steps fetched with the routes, with no query of its own. An
    account no route names is absent: "Automatic" never sends through it."""
    found: dict[int, dict[bool, list[Route]]] = {}
    for route in routes:
        for step in route.steps.all():
            found.setdefault(step.account_id, {}).setdefault(route.is_active, []).append(route)
    return found


def default_sender_choices(accounts: list[ProviderAccount], states: dict) -> dict[int, dict]:
    """account pk -> what its "default sender ID for routed messages" select offers: its usable
    sender IDs (one query for every account), and the one saved, marked with why, when it can
    no longer be sent from (routing then passes it over)."""
    offered: dict[int, list[dict]] = {a.pk: [] for a in accounts}
    for account_id, value in (
        SenderID.objects.filter(account__in=accounts)
        .usable()
        .order_by("value")
        .values_list("account_id", "value")
    ):
        offered[account_id].append({"value": value})
    saved = [(a, states[a.pk].default_sender) for a in accounts if states[a.pk]]
    problems = unusable_among(saved)
    choices = {}
    for account in accounts:
        state = states[account.pk]
        chosen = state.default_sender if state else ""
        problem = problems.get((account.pk, chosen))
        senders = offered[account.pk]
        if problem:
            senders = [*senders, {"value": chosen, "unusable": problem}]
        choices[account.pk] = {"senders": senders, "chosen": chosen, "problem": problem}
    return choices


@permission_required("routing.view_route", raise_exception=True)
def routing(request: HttpRequest) -> HttpResponse:
    return render(request, "routing/routing.html", routing_context())


@permission_required("routing.view_route", raise_exception=True)
def dry_run(request: HttpRequest) -> HttpResponse:
    """Which account a number and a text would use, and why (htmx fragment or the page)."""
    form = DryRunForm(request.GET or None)
    answer = None
    if form.is_valid():
        data = form.cleaned_data
        phone = parse_phone(data["phone"], settings.PHONE_DEFAULT_REGION)
        if not phone.valid:
            form.add_error("phone", phone.error)
        else:
            router = router_for(
                body=data["text"], message_type=data["message_type"], sender=data["sender"]
            )
            choice = router.choose(phone.e164)
            names = {c.id: c.name for c in router.candidates.values()}
            answer = {
                "phone": phone.e164,
                "account": names.get(choice.account),
                "sender": router.candidates[choice.account].sender if choice.account else "",
                "reason": choice.reason,
                "fallbacks": [names[a] for a in choice.fallbacks],
            }
    context = {"dry_run_form": form, "answer": answer}
    if request.htmx:
        return render(request, "routing/_dry_run.html", context)
    return render(request, "routing/routing.html", routing_context(**context))


@permission_required("routing.add_route", raise_exception=True)
def route_create(request: HttpRequest) -> HttpResponse:
    return route_form(request, Route())


@permission_required("routing.change_route", raise_exception=True)
def route_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return route_form(request, get_object_or_404(Route, pk=pk))


def route_form(request: HttpRequest, route: Route) -> HttpResponse:
    form = RouteForm(request.POST or None, instance=route)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            if route.pk is None:
                last = Route.objects.order_by("-position").values_list("position", flat=True)
                form.instance.position = (last.first() or 0) + 1
            saved = form.save()
            saved.steps.all().delete()
            RouteAccount.objects.bulk_create(
                RouteAccount(route=saved, account=account, position=n)
                for n, account in enumerate(form.chosen_accounts())
            )
        messages.success(request, _("Route “%(name)s” saved.") % {"name": saved.name})
        return redirect("routing:index")
    return render(request, "routing/route_form.html", {"form": form, "route": route})


@require_POST
@permission_required("routing.delete_route", raise_exception=True)
def route_delete(request: HttpRequest, pk: int) -> HttpResponse:
    route = get_object_or_404(Route, pk=pk)
    route.delete()
    messages.success(request, _("Route “%(name)s” removed.") % {"name": route.name})
    return redirect("routing:index")


@require_POST
@permission_required("routing.change_route", raise_exception=True)
def route_move(request: HttpRequest, pk: int, direction: str) -> HttpResponse:
    """Swap the route with its neighbour above or below (the order decides which wins)."""
    with transaction.atomic():
        ordered = list(Route.objects.select_for_update().order_by("position", "id"))
        index = next((i for i, r in enumerate(ordered) if r.pk == pk), None)
        if index is None:
            return redirect("routing:index")
        other = index - 1 if direction == "up" else index + 1
        if 0 <= other < len(ordered):
            ordered[index], ordered[other] = ordered[other], ordered[index]
            for position, route in enumerate(ordered, start=1):
                Route.objects.filter(pk=route.pk).update(position=position)
    return redirect("routing:index")


@require_POST
@permission_required("routing.change_route", raise_exception=True)
def account_settings(request: HttpRequest, pk: int) -> HttpResponse:
    """An account's default sender for routed messages; `reset` puts it back into routes."""
    account = get_object_or_404(ProviderAccount, pk=pk)
    state, _created = AccountRouting.objects.get_or_create(account=account)
    if "reset" in request.POST:
        AccountRouting.objects.filter(pk=state.pk).update(not_sent_failures=0, out_until=None)
        messages.success(request, _("%(account)s is back in routes.") % {"account": account})
        return redirect("routing:index")
    form = AccountRoutingForm(request.POST)
    if form.is_valid():
        chosen = form.cleaned_data["default_sender"].strip()
        if problem := unusable(account, chosen):
            messages.error(request, problem.warning)
            return redirect("routing:index")
        AccountRouting.objects.filter(pk=state.pk).update(default_sender=chosen)
        messages.success(
            request, _("Routing settings of %(account)s saved.") % {"account": account}
        )
    return redirect("routing:index")
