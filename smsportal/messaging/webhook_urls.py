"""Endpoints providers call (no login, no CSRF; each secured by the account's token)."""

from django.urls import path

from . import webhooks

app_name = "hooks"
urlpatterns = [
    path("isms/<str:token>/dlr", webhooks.ISMSDeliveryReport.as_view(), name="isms_dlr"),
    path("isms/<str:token>/incoming", webhooks.ISMSInbound.as_view(), name="isms_incoming"),
]
