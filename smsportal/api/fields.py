"""Strict JSON fields: DRF turns 123 into "123" and "12" into 12; an API that other systems
build against should say "wrong type" instead of guessing."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class StrictCharField(serializers.CharField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    default_error_messages = {"invalid": "A whole number is required (not a string)."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "true or false is required."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """An id: a whole number naming an existing row."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)


class ScopedPrimaryKeyField(StrictPrimaryKeyField):
    """An id among the rows `scope(request)` gives (a department's: contacts/scope.py); another
    department's id reads as an id that does not exist. Needs the request in the context."""

    def __init__(self, *, scope, model, **kwargs):
        self.scope = scope
        super().__init__(queryset=model.objects.none(), **kwargs)

    def get_queryset(self):
        return self.scope(self.context["request"])


class NoUnknownFields:
    """Mixin for serializers: a field the API does not know is an error, not silently dropped
    (a typo such as "shedule_at" would otherwise send at once)."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(
                set(data) - {name for name, f in self.fields.items() if not f.read_only}
            )
            if unknown:
                raise serializers.ValidationError(
                    {
                        name: [serializers.ErrorDetail("Unknown field.", code="unknown_field")]
                        for name in unknown
                    }
                )
        return super().to_internal_value(data)


AUTOMATIC = "automatic"


@extend_schema_field(
    {
        "oneOf": [{"type": "integer"}, {"type": "string", "enum": [AUTOMATIC]}],
        "description": 'Provider account id (GET /accounts), or "automatic": the routes '
        "choose each recipient's account.",
    }
)
class AccountOrAutomaticField(StrictPrimaryKeyField):
    """An account id, or the word "automatic" (returned as is): routing chooses the account of
    each recipient, as Compose's "Automatic" does."""

    default_error_messages = {
        "incorrect_type": 'An account id (a whole number) or "automatic" is required, '
        "not {data_type}."
    }

    def to_internal_value(self, data):
        if data == AUTOMATIC:
            return AUTOMATIC
        return super().to_internal_value(data)
