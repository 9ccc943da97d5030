"""Accounts with their balances, sender IDs, the inbox, and the preview of a text."""

from __future__ import annotations

from django.db.models import Exists, OuterRef
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response

from smsportal.credits.balances import account_balances
from smsportal.messaging import message_types
from smsportal.messaging.models import InboundMessage
from smsportal.messaging.scope import conversations_of
from smsportal.messaging.sending import estimate
from smsportal.providers.models import ProviderAccount
from smsportal.senders.models import SenderID, SenderStatus

from .. import filters
from ..fields import (
    AUTOMATIC,
    AccountOrAutomaticField,
    NoUnknownFields,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
)
from ..pagination import NewestFirst, OldestFirst
from ..routed_preview import routed_preview, text_figures
from ..serializers import NO_RECIPIENTS, check_numbers, lists_field, numbers_field
from .base import ApiGenericView


class BalanceSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=14, decimal_places=4)
    available = serializers.DecimalField(
        max_digits=14, decimal_places=4, help_text="The amount less what transfers hold."
    )
    reserved = serializers.DecimalField(max_digits=14, decimal_places=4)
    taken_at = serializers.DateTimeField()


class AccountSerializer(serializers.ModelSerializer):
    provider = serializers.CharField(source="get_kind_display")
    balance = serializers.SerializerMethodField()
    reports_balance = serializers.SerializerMethodField()

    class Meta:
        model = ProviderAccount
        fields = [
            "id",
            "name",
            "kind",
            "provider",
            "is_active",
            "max_parts",
            "price_per_segment",
            "reports_balance",
            "balance",
        ]
        read_only_fields = fields

    def get_reports_balance(self, account) -> bool:
        return account.backend_class.capabilities.balance

    @extend_schema_field(BalanceSerializer(allow_null=True))
    def get_balance(self, account) -> dict | None:
        found = self.context["balances"].get(account.pk)
        if found is None or found.snapshot is None or not self.context["may_see_balance"]:
            return None
        return BalanceSerializer(
            {
                "amount": found.snapshot.amount,
                "available": found.available,
                "reserved": found.reserved,
                "taken_at": found.snapshot.taken_at,
            }
        ).data


class AccountListView(ApiGenericView):
    """Balances need the balance permission (both roles have it); without it `balance` is null."""

    access = {"GET": ("read", ["providers.view_provideraccount"])}
    serializer_class = AccountSerializer
    pagination_class = OldestFirst

    @extend_schema(
        parameters=[OpenApiParameter("active", OpenApiTypes.BOOL)],
        responses=AccountSerializer(many=True),
        operation_id="accounts_list",
        summary="Provider accounts and their last known balances",
    )
    def get(self, request):
        found = ProviderAccount.objects.all()
        active = filters.choice(request.query_params, "active", ["true", "false"])
        if active is not None:
            found = found.filter(is_active=active == "true")
        page = self.paginate_queryset(found)
        context = {
            "balances": {b.account.pk: b for b in account_balances(page)},
            "may_see_balance": request.user.has_perm("credits.view_balancesnapshot"),
        }
        return self.get_paginated_response(AccountSerializer(page, many=True, context=context).data)


class SenderSerializer(serializers.ModelSerializer):
    class Meta:
        model = SenderID
        fields = ["id", "account", "value", "kind", "status", "is_default", "note"]
        read_only_fields = fields


class SenderListView(ApiGenericView):
    access = {"GET": ("read", ["senders.view_senderid"])}
    serializer_class = SenderSerializer
    pagination_class = OldestFirst

    @extend_schema(
        parameters=[
            OpenApiParameter("account", OpenApiTypes.INT),
            OpenApiParameter("status", OpenApiTypes.STR, enum=list(SenderStatus.values)),
        ],
        responses=SenderSerializer(many=True),
        operation_id="sender_ids_list",
        summary="Sender IDs (active ones can be used in a send)",
    )
    def get(self, request):
        params = request.query_params
        found = SenderID.objects.all()
        if (account := filters.integer(params, "account")) is not None:
            found = found.filter(account_id=account)
        if (status := filters.choice(params, "status", SenderStatus.values)) is not None:
            found = found.filter(status=status)
        page = self.paginate_queryset(found)
        return self.get_paginated_response(SenderSerializer(page, many=True).data)


class InboundSerializer(serializers.ModelSerializer):
    class Meta:
        model = InboundMessage
        fields = ["id", "account", "sender", "recipient", "text", "received_at", "read_at"]
        read_only_fields = fields


class InboxView(ApiGenericView):
    """Incoming SMS, newest first. Reading through the API does not mark them read: the
    portal's inbox shows staff what they have not seen."""

    access = {"GET": ("read", ["messaging.view_inboundmessage"])}
    serializer_class = InboundSerializer
    pagination_class = NewestFirst

    @extend_schema(
        parameters=[
            OpenApiParameter("account", OpenApiTypes.INT),
            OpenApiParameter("sender", OpenApiTypes.STR, description="digits the number contains"),
            OpenApiParameter("unread", OpenApiTypes.BOOL),
            OpenApiParameter("received_after", OpenApiTypes.DATETIME),
        ],
        responses=InboundSerializer(many=True),
        operation_id="inbox_list",
        summary="Incoming SMS",
    )
    def get(self, request):
        params = request.query_params
        # The SMS of the threads the key's department may see (messaging.scope).
        found = InboundMessage.objects.filter(
            Exists(
                conversations_of(request).filter(
                    account_id=OuterRef("account_id"), phone=OuterRef("phone")
                )
            )
        )
        if (account := filters.integer(params, "account")) is not None:
            found = found.filter(account_id=account)
        if (sender := filters.text(params, "sender", 32)) is not None:
            found = found.filter(sender__contains=sender)
        if (unread := filters.choice(params, "unread", ["true", "false"])) is not None:
            found = found.filter(read_at__isnull=unread == "true")
        if (after := filters.moment(params, "received_after")) is not None:
            found = found.filter(received_at__gte=after)
        page = self.paginate_queryset(found)
        return self.get_paginated_response(InboundSerializer(page, many=True).data)


class PreviewSerializer(NoUnknownFields, serializers.Serializer):
    """A text to count as an account would send it; with the account "automatic", the numbers
    to split between the accounts the routes choose."""

    account = AccountOrAutomaticField(
        queryset=ProviderAccount.objects.all(),
        help_text='Provider account id (GET /accounts), or "automatic": how the routes would '
        "split the numbers in `to` and `lists` between the accounts.",
    )
    text = StrictCharField(trim_whitespace=False, allow_blank=True, max_length=10_000)
    type = serializers.ChoiceField(
        choices=list(message_types.KINDS), required=False, default=message_types.TEXT
    )
    binary_udh = StrictBooleanField(required=False, default=True)
    recipients = StrictIntegerField(
        required=False,
        default=1,
        min_value=1,
        max_value=10_000_000,
        help_text="How many recipients to price (default 1); with an account id only (with "
        '"automatic" each number is priced: give `to` or `lists`).',
    )
    to = numbers_field('Only with "automatic": the numbers, as POST /messages takes them.')
    lists = lists_field('Only with "automatic": contact list ids, every member once.')
    sender = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=20,
        default="",
        help_text='Only with "automatic": the sender ID asked for; each account sends from it '
        "where registered, else from its default for routed messages.",
    )

    def validate_to(self, numbers: list[str]) -> list[str]:
        return check_numbers(numbers)

    def validate(self, data: dict) -> dict:
        given = self.initial_data if isinstance(self.initial_data, dict) else {}
        if data["account"] == AUTOMATIC:
            if "recipients" in given:
                raise serializers.ValidationError(
                    {
                        "recipients": [
                            serializers.ErrorDetail(
                                "With “automatic” each number is priced at its destination: "
                                "give the numbers in “to” or lists in “lists”, not a count.",
                                code="not_with_automatic",
                            )
                        ]
                    }
                )
            if not data.get("to") and not data.get("lists"):
                raise serializers.ValidationError({"to": [NO_RECIPIENTS]})
            return data
        only_automatic = [name for name in ("to", "lists", "sender") if name in given]
        if only_automatic:
            raise serializers.ValidationError(
                {
                    name: [
                        serializers.ErrorDetail(
                            "Only with “account”: “automatic” (the routes choose by each "
                            "number); with an account id give the count in “recipients”.",
                            code="only_with_automatic",
                        )
                    ]
                    for name in only_automatic
                }
            )
        return data


class RoutedShareSerializer(serializers.Serializer):
    account = serializers.IntegerField(help_text="The account id (GET /accounts).")
    account_name = serializers.CharField()
    recipient_count = serializers.IntegerField()
    sender = serializers.CharField(
        help_text="The sender ID this account sends from (the one asked for where registered, "
        "else its default for routed messages); empty: the account's own default."
    )
    segments = serializers.IntegerField(help_text="SMS per recipient, as this account counts.")
    estimated_cost = serializers.DecimalField(
        max_digits=14,
        decimal_places=4,
        help_text="Each recipient at this account's price for their destination.",
    )
    routes = serializers.ListField(
        child=serializers.CharField(), help_text="The routes that chose this account."
    )


class PreviewAnswerSerializer(serializers.Serializer):
    encoding = serializers.CharField()
    alphabet = serializers.CharField(help_text="Standard, Western European or Unicode")
    characters = serializers.IntegerField()
    segments = serializers.IntegerField()
    parts = serializers.ListField(child=serializers.CharField())
    remaining = serializers.IntegerField(help_text="characters left in the last part")
    non_standard_characters = serializers.ListField(child=serializers.CharField())
    max_parts = serializers.IntegerField(
        allow_null=True,
        help_text='null with "automatic": each account allows its own, and one that cannot '
        "carry the text is not chosen.",
    )
    sendable = serializers.BooleanField()
    problem = serializers.CharField()
    estimated_cost = serializers.DecimalField(
        max_digits=14,
        decimal_places=4,
        help_text='With "automatic": the sum of the accounts\' costs in `routing`.',
    )
    routing = RoutedShareSerializer(
        many=True,
        required=False,
        help_text='Only with "automatic": the accounts the routes choose, most recipients first.',
    )
    recipients = serializers.DictField(
        required=False,
        help_text='Only with "automatic", as POST /messages answers it: queued (would be sent), '
        "skipped (opted out, or `no route: ...` with the reason) and duplicates counts, and "
        "outcomes: one line per recipient (to, outcome, reason), at most 1,000 "
        "(outcomes_complete says if all).",
    )


class PreviewView(ApiGenericView):
    """The encoding and parts of a text as an account would send it (the compose preview's
    count), so another system can count before it sends."""

    access = {"POST": ("send", ["messaging.add_message"])}
    serializer_class = PreviewSerializer

    @extend_schema(
        request=PreviewSerializer,
        responses=PreviewAnswerSerializer,
        operation_id="preview",
        summary="Count a text's parts and cost (with \"automatic\": the routes' split)",
    )
    def post(self, request):
        payload = PreviewSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        if data["account"] == AUTOMATIC:
            return Response(PreviewAnswerSerializer(routed_preview(data)).data)
        account, kind = data["account"], data["type"]
        analysis = message_types.measure(
            message_types.body_for(data["text"], kind),
            kind,
            data["binary_udh"],
            account.backend.encoding_profile,
        )
        problem = analysis.problem
        if not problem and analysis.segments > account.max_parts:
            problem = (
                f"The text needs {analysis.segments} parts; {account} allows at most "
                f"{account.max_parts} per message."
            )
        answer = {
            **text_figures(analysis, data["text"]),
            "max_parts": account.max_parts,
            "sendable": not problem,
            "problem": problem,
            "estimated_cost": estimate(account, data["recipients"], analysis.segments),
        }
        return Response(PreviewAnswerSerializer(answer).data)
