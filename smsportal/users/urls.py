from django.urls import path

from . import views

app_name = "users"

urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("two-factor/code/", views.verify, name="two_factor_verify"),
    path("two-factor/set-up/", views.setup, name="two_factor_setup"),
    path("two-factor/start/", views.start_setup, name="two_factor_start"),
    path("two-factor/recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path(
        "two-factor/recovery-codes/new/",
        views.regenerate_recovery_codes,
        name="recovery_codes_regenerate",
    ),
    path("two-factor/off/", views.disable, name="two_factor_disable"),
]
