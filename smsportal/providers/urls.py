from django.urls import path

from . import views

app_name = "providers"
urlpatterns = [
    path("", views.account_list, name="list"),
    path("new/", views.account_create, name="create"),
    path("<int:pk>/", views.account_detail, name="detail"),
    path("<int:pk>/edit/", views.account_edit, name="edit"),
    path("<int:pk>/rotate-token/", views.account_rotate_token, name="rotate_token"),
    path("<int:pk>/finish-rotation/", views.account_finish_rotation, name="finish_rotation"),
]
