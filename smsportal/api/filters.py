"""Query-string filters, checked: a filter that does not parse is a 400 problem, never ignored
(ignoring `?status=delivred` would answer with everything)."""

from __future__ import annotations

from django.utils.dateparse import parse_datetime
from rest_framework import serializers


def choice(params, name: str, choices) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if value not in choices:
        raise serializers.ValidationError(
            {
                name: [
                    serializers.ErrorDetail(
                        f"“{value}” is not one of {', '.join(choices)}.", code="invalid_choice"
                    )
                ]
            }
        )
    return value


def integer(params, name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if not value.isdigit() or len(value) > 18:
        raise serializers.ValidationError(
            {name: [serializers.ErrorDetail("A whole number is required.", code="invalid")]}
        )
    return int(value)


def moment(params, name: str):
    value = params.get(name)
    if value is None:
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise serializers.ValidationError(
            {
                name: [
                    serializers.ErrorDetail(
                        "An ISO 8601 date and time with its offset is required "
                        "(e.g. 2026-12-01T09:00:00Z).",
                        code="invalid",
                    )
                ]
            }
        )
    return parsed


def text(params, name: str, max_length: int = 100) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if len(value) > max_length:
        raise serializers.ValidationError(
            {name: [serializers.ErrorDetail(f"At most {max_length} characters.", code="invalid")]}
        )
    return value
