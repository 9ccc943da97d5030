from django.contrib import admin
from django.urls import include, path

from smsportal.reports.views import dashboard

urlpatterns = [
    path("", dashboard, name="dashboard"),
    path("auth/", include("django.contrib.auth.urls")),
    path("accounts/", include("smsportal.providers.urls")),
    path("contacts/", include("smsportal.contacts.urls")),
    path("senders/", include("smsportal.senders.urls")),
    path("messages/", include("smsportal.messaging.urls")),
    path("credits/", include("smsportal.credits.urls")),
    path("reports/", include("smsportal.reports.urls")),
    path("hooks/", include("smsportal.messaging.webhook_urls")),
    path("admin/", admin.site.urls),
]
