from django.contrib import admin
from django.urls import include, path

from smsportal.reports.views import dashboard

urlpatterns = [
    path("", dashboard, name="dashboard"),
    path("auth/", include("django.contrib.auth.urls")),
    path("accounts/", include("smsportal.providers.urls")),
    path("admin/", admin.site.urls),
]
