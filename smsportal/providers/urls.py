from django.urls import path

from . import views

app_name = "providers"
urlpatterns = [
    path("", views.account_list, name="list"),
    path("new/", views.account_create, name="create"),
    path("<int:pk>/", views.account_detail, name="detail"),
    path("<int:pk>/edit/", views.account_edit, name="edit"),
    path("<int:pk>/test-connection/", views.account_test_connection, name="test_connection"),
    path(
        "<int:pk>/allow-callback-addresses/",
        views.account_allow_callback_addresses,
        name="allow_callback_addresses",
    ),
    path("<int:pk>/rotate-token/", views.account_rotate_token, name="rotate_token"),
    path("<int:pk>/finish-rotation/", views.account_finish_rotation, name="finish_rotation"),
]
