from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from smsportal.reports.views import dashboard

urlpatterns = [
    path("", dashboard, name="dashboard"),
    path("auth/login/", auth_views.LoginView.as_view(), name="login"),
    path("auth/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("auth/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "auth/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("accounts/", include("smsportal.providers.urls")),
    path("contacts/", include("smsportal.contacts.urls")),
    path("senders/", include("smsportal.senders.urls")),
    path("messages/", include("smsportal.messaging.urls")),
    path("credits/", include("smsportal.credits.urls")),
    path("reports/", include("smsportal.reports.urls")),
    path("hooks/", include("smsportal.messaging.webhook_urls")),
    path("admin/", admin.site.urls),
]
