from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from smsportal.providers.models import ProviderAccount


def dashboard(request: HttpRequest) -> HttpResponse:
    """The landing page: provider accounts, or for an empty system, what to do first."""
    accounts = ProviderAccount.objects.filter(is_active=True)
    return render(request, "reports/dashboard.html", {"accounts": accounts})
