"""The templates a person may see, use and change: their departments' (departments/scope.py)."""

from __future__ import annotations

from django.db.models import QuerySet

from smsportal.departments.scope import visible

from .models import MessageTemplate


def templates_of(request_or_user) -> QuerySet[MessageTemplate]:
    return visible(MessageTemplate.objects.all(), request_or_user)
