from django.urls import path

from . import views

app_name = "senders"
urlpatterns = [
    path("", views.sender_list, name="list"),
    path("add/", views.sender_create, name="create"),
    path("options/", views.sender_options, name="options"),
    path("<int:pk>/edit/", views.sender_edit, name="edit"),
    path("<int:pk>/default/", views.sender_set_default, name="set_default"),
    path("<int:pk>/retire/", views.sender_retire, name="retire"),
    path("sync/<int:account_pk>/", views.sender_sync, name="sync"),
]
