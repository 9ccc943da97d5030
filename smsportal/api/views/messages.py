"""Messages: send (idempotent), list, read one, its deliveries, cancel."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from smsportal.messaging.models import Message
from smsportal.messaging.scope import messages_of
from smsportal.sms.status import DeliveryStatus

from .. import filters, sending
from ..idempotency import run_once
from ..models import ApiKey, ApiMessage
from ..pagination import NewestFirst, OldestFirst
from ..problems import refused
from ..serializers import (
    CancelAnswerSerializer,
    DeliverySerializer,
    MessageSerializer,
    SendAnswerSerializer,
    SendSerializer,
)
from .base import ApiGenericView

SEND = ("send", ["messaging.add_message"])
READ = ("read", ["messaging.view_message"])

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Any unique string (a UUID): a repeat of the same request with the same key "
    "within 24 hours answers as the first did and sends nothing; a different request with the "
    "same key is refused (409).",
)


def messages_for_api(request):
    """The messages of the key's department (messaging.scope)."""
    return messages_of(request).select_related("api_origin", "created_by")


MESSAGE_FILTERS = [
    OpenApiParameter("status", OpenApiTypes.STR, enum=list(Message.Status.values)),
    OpenApiParameter("account", OpenApiTypes.INT),
    OpenApiParameter("created_after", OpenApiTypes.DATETIME),
    OpenApiParameter("created_before", OpenApiTypes.DATETIME),
    OpenApiParameter(
        "via_api", OpenApiTypes.BOOL, description="only messages sent through the API"
    ),
]


class MessageListView(ApiGenericView):
    access = {"GET": READ, "POST": SEND}
    serializer_class = MessageSerializer
    pagination_class = NewestFirst

    def get_queryset(self):
        params = self.request.query_params
        found = messages_for_api(self.request)
        if (value := filters.choice(params, "status", Message.Status.values)) is not None:
            found = found.filter(status=value)
        if (value := filters.integer(params, "account")) is not None:
            found = found.filter(account_id=value)
        if (value := filters.moment(params, "created_after")) is not None:
            found = found.filter(created_at__gte=value)
        if (value := filters.moment(params, "created_before")) is not None:
            found = found.filter(created_at__lt=value)
        if (value := filters.choice(params, "via_api", ["true", "false"])) is not None:
            found = found.filter(api_origin__isnull=value == "false")
        return found

    @extend_schema(
        parameters=MESSAGE_FILTERS,
        responses=MessageSerializer(many=True),
        operation_id="messages_list",
        summary="List messages, newest first",
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(MessageSerializer(page, many=True).data)

    @extend_schema(
        request=SendSerializer,
        responses={202: SendAnswerSerializer},
        parameters=[IDEMPOTENCY_HEADER],
        operation_id="messages_send",
        summary="Send a message",
    )
    def post(self, request):
        payload = SendSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key", "").strip()

        def work(remember=None) -> tuple[int, dict]:
            answer = {}

            def record(outcome: sending.Outcome) -> None:
                # In the send's transaction: the message's origin, and the answer to replay.
                answer.update(sent_answer(outcome, request.auth))
                if remember is not None:
                    remember(status.HTTP_202_ACCEPTED, answer, outcome.message.pk)

            try:
                sending.send(
                    payload.validated_data, request.user, request.auth.department, record=record
                )
            except sending.InvalidSend as exc:
                raise serializers.ValidationError(exc.errors) from exc
            return status.HTTP_202_ACCEPTED, answer

        if key:
            code, body, replayed = run_once(request.user, key, request.data, work)
        else:
            (code, body), replayed = work(), False
        headers = {"Location": f"/api/v1/messages/{body['message']['id']}"}
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        return Response(body, status=code, headers=headers)


def sent_answer(outcome: sending.Outcome, key: ApiKey) -> dict:
    """Mark the new message as sent through `key` and say what became of it. The message is
    answered as created (its `api_origin` is the row just made), not read back."""
    for made in outcome.messages or [outcome.message]:
        ApiMessage.objects.create(message=made, key=key, key_name=key.name)
    body = {"message": MessageSerializer(outcome.message).data, "recipients": outcome.summary()}
    if outcome.messages:  # account "automatic": one per account and route
        made = sorted(outcome.messages, key=lambda message: message.pk)
        body["messages"] = MessageSerializer(made, many=True).data
    return body


class MessageDetailView(ApiGenericView):
    access = {"GET": READ}
    serializer_class = MessageSerializer

    @extend_schema(operation_id="messages_retrieve", summary="One message")
    def get(self, request, pk: int):
        return Response(MessageSerializer(get_object_or_404(messages_for_api(request), pk=pk)).data)


class DeliveryListView(ApiGenericView):
    access = {"GET": ("read", ["messaging.view_message", "messaging.view_delivery"])}
    serializer_class = DeliverySerializer
    pagination_class = OldestFirst

    @extend_schema(
        parameters=[OpenApiParameter("status", OpenApiTypes.STR, enum=list(DeliveryStatus.values))],
        responses=DeliverySerializer(many=True),
        operation_id="messages_deliveries",
        summary="The deliveries (one per recipient) of a message",
    )
    def get(self, request, pk: int):
        message = get_object_or_404(messages_of(request), pk=pk)
        found = message.deliveries.all()
        status_filter = filters.choice(request.query_params, "status", DeliveryStatus.values)
        if status_filter:
            found = found.filter(status=status_filter)
        page = self.paginate_queryset(found)
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)


class MessageCancelView(ApiGenericView):
    """Withdraw the recipients not yet sent, as the message page's Cancel does."""

    access = {"POST": ("send", ["messaging.change_message"])}
    serializer_class = MessageSerializer

    @extend_schema(
        request=None,
        responses=CancelAnswerSerializer,
        operation_id="messages_cancel",
        summary="Cancel what is not yet sent",
    )
    def post(self, request, pk: int):
        message = get_object_or_404(messages_of(request), pk=pk)
        queued = message.deliveries.filter(status=DeliveryStatus.QUEUED).exists()
        if message.status in (Message.Status.DONE, Message.Status.CANCELLED) or not queued:
            raise refused(
                "nothing_to_cancel",
                f"Message #{message.pk} has nothing left to cancel: every recipient has "
                "already been processed.",
            )
        cancelled = message.cancel(request.user)
        message = messages_for_api(request).get(pk=pk)
        return Response({"cancelled": cancelled, "message": MessageSerializer(message).data})
