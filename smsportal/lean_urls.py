"""The URLconf of the lean request path (smsportal/core/lean_requests.py): the URLs providers
call, under the same paths and names as in smsportal/urls.py, and nothing else."""

from django.urls import include, path

urlpatterns = [
    path("hooks/", include("smsportal.messaging.webhook_urls")),
]
