from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from smsportal.api import profile as api_profile
from smsportal.core import views as core_views
from smsportal.reports.views import dashboard
from smsportal.users.views import LogInView, admin_log_in

urlpatterns = [
    path("", dashboard, name="dashboard"),
    path("auth/login/", LogInView.as_view(), name="login"),
    path("auth/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("auth/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "auth/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("auth/", include("smsportal.users.urls")),
    path("auth/preferences/", core_views.preferences, name="preferences"),
    path("i18n/setlang/", core_views.set_language, name="set_language"),
    path("accounts/", include("smsportal.providers.urls")),
    path("contacts/", include("smsportal.contacts.urls")),
    path("senders/", include("smsportal.senders.urls")),
    path("messages/", include("smsportal.messaging.urls")),
    path("credits/", include("smsportal.credits.urls")),
    path("routing/", include("smsportal.routing.urls")),
    path("reports/", include("smsportal.reports.urls")),
    path("recurring/", include("smsportal.recurring.urls")),
    path("templates/", include("smsportal.message_templates.urls")),
    path("keywords/", include("smsportal.keywords.urls")),
    path("forwarding/", include("smsportal.forwarding.urls")),
    path("audit/", include("smsportal.audit.urls")),
    path("quotas/", include("smsportal.quotas.urls")),
    path("departments/", include("smsportal.departments.urls")),
    path("hooks/", include("smsportal.messaging.webhook_urls")),
    # One log-in page, with its second step: the admin's own would skip the code.
    path("admin/login/", admin_log_in),
    path("auth/profile/api-keys/", api_profile.create_key, name="api-key-create"),
    path("auth/profile/api-keys/<int:pk>/revoke/", api_profile.revoke_key, name="api-key-revoke"),
    path("api/", include("smsportal.api.urls")),
    path("admin/", admin.site.urls),
]
