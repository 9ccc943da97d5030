"""What the API reads and writes. Input serializers are strict (fields.py): unknown fields and
wrong JSON types are errors."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from rest_framework import serializers

from smsportal.contacts.models import ContactList
from smsportal.contacts.scope import lists_of
from smsportal.messaging import message_types
from smsportal.messaging.models import Delivery, Message
from smsportal.providers.models import ProviderAccount
from smsportal.sms.phones import parse_phone

from .fields import (
    AccountOrAutomaticField,
    NoUnknownFields,
    ScopedPrimaryKeyField,
    StrictBooleanField,
    StrictCharField,
)

MAX_NUMBERS = 10_000  # pasted numbers per request; larger sends go through lists


NUMBERS_HELP = "Phone numbers; without an international prefix the portal's region is assumed."


def numbers_field(help_text: str = NUMBERS_HELP) -> serializers.ListField:
    """`to`: phone numbers, as POST /messages and POST /preview take them."""
    return serializers.ListField(
        child=StrictCharField(max_length=40),
        required=False,
        max_length=MAX_NUMBERS,
        help_text=help_text,
    )


def lists_field(help_text: str = "Contact list ids: every member, once.") -> serializers.ListField:
    """`lists`: contact list ids of the key's department (or shared with it)."""
    return serializers.ListField(
        child=ScopedPrimaryKeyField(scope=lists_of, model=ContactList),
        required=False,
        help_text=help_text,
    )


def check_numbers(numbers: list[str]) -> list[str]:
    """Every number in `to` must parse; each one that does not is an error at its index."""
    errors = {}
    for index, raw in enumerate(numbers):
        parsed = parse_phone(raw, settings.PHONE_DEFAULT_REGION)
        if not parsed.valid:
            errors[index] = [
                serializers.ErrorDetail(
                    f"“{raw}” is not a phone number: {parsed.error}", code="invalid_number"
                )
            ]
    if errors:
        raise serializers.ValidationError(errors)
    return numbers


NO_RECIPIENTS = serializers.ErrorDetail(
    "Give numbers in “to” or lists in “lists”.", code="required"
)


class SendSerializer(NoUnknownFields, serializers.Serializer):
    account = AccountOrAutomaticField(
        queryset=ProviderAccount.objects.all(),
        help_text='Provider account id (GET /accounts), or "automatic": the routes choose '
        "each recipient's account.",
    )
    to = numbers_field()
    lists = lists_field()
    text = StrictCharField(trim_whitespace=False, max_length=10_000)
    sender = StrictCharField(required=False, allow_blank=True, max_length=20, default="")
    type = serializers.ChoiceField(
        choices=list(message_types.KINDS), required=False, default=message_types.TEXT
    )
    binary_udh = StrictBooleanField(required=False, default=True)
    barcode_format = serializers.ChoiceField(
        choices=[value for value, _label in message_types.BARCODE_FORMATS],
        required=False,
        allow_blank=True,
        default="",
    )
    schedule_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="ISO 8601; empty: send now."
    )

    def validate_to(self, numbers: list[str]) -> list[str]:
        return check_numbers(numbers)

    def validate_schedule_at(self, when):
        if when is not None and when <= timezone.now():
            raise serializers.ValidationError("Choose a time in the future, or leave it out.")
        return when

    def validate(self, data: dict) -> dict:
        if not data.get("to") and not data.get("lists"):
            raise serializers.ValidationError({"to": [NO_RECIPIENTS]})
        return data


class MessageSerializer(serializers.ModelSerializer):
    text = serializers.CharField(source="body")
    type = serializers.CharField(source="message_type")
    via_api = serializers.SerializerMethodField(
        help_text="The name of the API key that sent it; null when sent from the portal."
    )
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    held_reason = serializers.CharField(
        read_only=True,
        help_text="Why a scheduled message did not go at its time: a flood rule holds it back "
        "to a later time, or its sender ID can no longer be sent from (it waits until its sender "
        "is changed in the portal). Empty otherwise.",
    )

    class Meta:
        model = Message
        fields = [
            "id",
            "status",
            "held_reason",
            "account",
            "sender",
            "text",
            "type",
            "encoding",
            "segments",
            "recipient_count",
            "estimated_cost",
            "actual_cost",
            "scheduled_for",
            "created_at",
            "dispatched_at",
            "completed_at",
            "created_by",
            "via_api",
        ]
        read_only_fields = fields

    def get_via_api(self, message: Message) -> str | None:
        # a message without one raises RelatedObjectDoesNotExist, an AttributeError
        origin = getattr(message, "api_origin", None)
        return origin.key_name if origin else None


class SendAnswerSerializer(serializers.Serializer):
    """The 202 answer of POST /messages (documentation only)."""

    message = MessageSerializer()
    messages = MessageSerializer(
        many=True,
        required=False,
        help_text='Only with account "automatic": every message the routes made, one per '
        "account and route (`message` is the first).",
    )
    recipients = serializers.DictField(
        help_text="queued, skipped and duplicates counts, and outcomes: one line per recipient "
        "(to, outcome queued|skipped, reason), at most 1,000 (outcomes_complete says if all)."
    )


class CancelAnswerSerializer(serializers.Serializer):
    cancelled = serializers.IntegerField(help_text="Recipients withdrawn before sending.")
    message = MessageSerializer()


class DeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = Delivery
        fields = [
            "id",
            "phone",
            "status",
            "error_code",
            "error_text",
            "segments",
            "cost",
            "provider_message_id",
            "queued_at",
            "submitted_at",
            "final_at",
        ]
        read_only_fields = fields
