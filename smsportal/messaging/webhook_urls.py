"""Endpoints providers call (no login, no CSRF; each secured by the account's token)."""

from django.urls import path, register_converter

from .delivery_reports import webhooks


class WebhookTokenConverter:
    """What a webhook token can be (`secrets.token_urlsafe`, at most 64 characters). Anything
    else — a NUL, a space, a 10,000-character path — answers 404 before the database is asked
    (PostgreSQL refuses a NUL in a query outright)."""

    regex = "[A-Za-z0-9_-]{1,64}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(WebhookTokenConverter, "webhook_token")

app_name = "hooks"
urlpatterns = [
    path("isms/<webhook_token:token>/dlr", webhooks.ISMSDeliveryReport.as_view(), name="isms_dlr"),
    path(
        "isms/<webhook_token:token>/incoming",
        webhooks.ISMSInbound.as_view(),
        name="isms_incoming",
    ),
]
