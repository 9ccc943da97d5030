"""Forwarding endpoints: list, add, edit, a page with the attempt log, a test event, secret
rotation. Managers change them; Operators may look. A secret is shown once, when it is made."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .events import test_event
from .forms import EndpointForm
from .models import Attempt, Endpoint, Event

LOG_ROWS = 50


@permission_required("forwarding.view_endpoint", raise_exception=True)
def endpoint_list(request: HttpRequest) -> HttpResponse:
    endpoints = Endpoint.objects.prefetch_related("accounts")
    return render(request, "forwarding/endpoint_list.html", {"endpoints": endpoints})


def _detail(request: HttpRequest, endpoint: Endpoint, new_secret: str = "") -> HttpResponse:
    context = {
        "endpoint": endpoint,
        "attempts": Attempt.objects.filter(endpoint=endpoint).select_related("event")[:LOG_ROWS],
        "pending": Event.objects.filter(endpoint=endpoint, status=Event.Status.PENDING).count(),
        "new_secret": new_secret,
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "forwarding/endpoint_detail.html#attempt-log", context)
    return render(request, "forwarding/endpoint_detail.html", context)


@permission_required("forwarding.view_endpoint", raise_exception=True)
def endpoint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, get_object_or_404(Endpoint, pk=pk))


@permission_required("forwarding.add_endpoint", raise_exception=True)
def endpoint_create(request: HttpRequest) -> HttpResponse:
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        endpoint = form.save(commit=False)
        secret = endpoint.set_new_secret()
        endpoint.save()
        form.save_m2m()
        messages.success(request, _("Endpoint %(endpoint)s added.") % {"endpoint": endpoint.name})
        return _detail(request, endpoint, new_secret=secret)
    return render(request, "forwarding/endpoint_form.html", {"form": form, "endpoint": None})


@permission_required("forwarding.change_endpoint", raise_exception=True)
def endpoint_edit(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(Endpoint, pk=pk)
    was_active = endpoint.is_active
    form = EndpointForm(request.POST or None, instance=endpoint)
    if request.method == "POST" and form.is_valid():
        endpoint = form.save(commit=False)
        if endpoint.is_active and not was_active:  # enabled again: the old reason is history
            endpoint.disabled_reason = ""
            endpoint.disabled_at = None
        endpoint.save()
        form.save_m2m()
        messages.success(request, _("Endpoint %(endpoint)s saved.") % {"endpoint": endpoint.name})
        return redirect(endpoint)
    return render(request, "forwarding/endpoint_form.html", {"form": form, "endpoint": endpoint})


@require_POST
@permission_required("forwarding.delete_endpoint", raise_exception=True)
def endpoint_delete(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(Endpoint, pk=pk)
    endpoint.delete()
    messages.success(request, _("Endpoint %(endpoint)s deleted.") % {"endpoint": endpoint.name})
    return redirect("forwarding:list")


@require_POST
@permission_required("forwarding.change_endpoint", raise_exception=True)
def endpoint_test(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(Endpoint, pk=pk)
    if not endpoint.is_active:
        messages.error(request, _("The endpoint is disabled: enable it first (Edit)."))
        return redirect(endpoint)
    event = test_event(endpoint)
    messages.success(
        request,
        _("Test event %(event)s queued; its attempts show below.") % {"event": event.event_id},
    )
    return redirect(endpoint)


@require_POST
@permission_required("forwarding.change_endpoint", raise_exception=True)
def endpoint_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(Endpoint, pk=pk)
    secret = endpoint.rotate_secret()
    messages.success(
        request,
        _(
            "New secret made. Until you finish the rotation, each event carries two signatures: "
            "one with the new secret and one with the old."
        ),
    )
    return _detail(request, endpoint, new_secret=secret)


@require_POST
@permission_required("forwarding.change_endpoint", raise_exception=True)
def endpoint_finish_rotation(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(Endpoint, pk=pk)
    endpoint.finish_rotation()
    messages.success(request, _("Rotation finished: events are signed with the new secret only."))
    return redirect(endpoint)
